# t/callback.t - jumio-callback: JSON and form bodies, validation, signed callback URLs, status order.
# Asserts the behaviour docs/DESIGN.md describes; see t/README.md for the fake Jumio.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

use JSON::PP ();
use Time::HiRes ();

my $EVIL = "http://127.0.0.1:$PORT/fake/evil";

sub cb_body_json {
    my ($t, $status, %o) = @_;
    return $JSON->encode({
        callbackSentAt    => '2024-05-01T10:00:00.000Z',
        workflowExecution => { id => $o{ref} // $t->{ref}, status => $status, definitionKey => '3',
                               href => "$EVIL/api/v1/accounts/$t->{account}/workflow-executions/$t->{ref}" },
        account           => { id => $o{account} // $t->{account}, href => "$EVIL/api/v1/accounts/$t->{account}" },
    });
}

sub cb_body_form {
    my ($t, $status) = @_;
    my %f = ('callbackSentAt' => '2024-05-01T10:00:00.000Z',
             'workflowExecution.id' => $t->{ref}, 'workflowExecution.status' => $status,
             'workflowExecution.definitionKey' => '3',
             'workflowExecution.href' => "$EVIL/api/v1/accounts/$t->{account}/workflow-executions/$t->{ref}",
             'account.id' => $t->{account}, 'account.href' => "$EVIL/api/v1/accounts/$t->{account}");
    my $enc = sub { my $s = shift; $s =~ s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ge; $s };
    return join '&', map { $enc->($_) . '=' . $enc->($f{$_}) } sort keys %f;
}

# POST a callback body as it is, with token => (undef: no jumio_token parameter) and
# ct => its Content-Type (default JSON).
sub send_cb {
    my ($body, %o) = @_;
    return callback($body, content_type => $o{ct} // 'application/json',
                    (defined $o{token} ? (query => "jumio_token=$o{token}") : ()));
}

sub tx_state { my $r = tx_row(shift); return %$r ? { map { $_ => $r->{$_} } qw(status status_rank) } : {} }
sub cb_count { my $wf = shift; defined $wf ? count_rows('SELECT id FROM jumio_callbacks WHERE workflow_id = ?', $wf)
                                           : (rows('SELECT COUNT(*) AS n FROM jumio_callbacks'))[0]{n} // 0 }

sub accepted {
    my ($res, $name) = @_;
    is($res->code, 200, "$name: HTTP 200") or diag(substr($res->as_string, 0, 600));
    my $d = json_answer($res, $name);
    is_deeply($d, { received => JSON::PP::true }, qq{$name: {"received": true}});
}

sub unchanged {
    my ($t, $name, $state, $n_all, $n_wf) = @_;
    is_deeply(tx_state($t), $state, "$name: status unchanged");
    is(cb_count(), $n_all, "$name: nothing appended to jumio_callbacks");
    is(cb_count($t->{ref}), $n_wf, "$name: no callback row for the transaction");
}

my @subtests;

push @subtests, ['valid callbacks: JSON and form, logged, status moves forward only' => sub {
    JumioTest::fake_reset();
    my $t = start_tx(tag => 'cbok');
    like($t->{token} // '', qr/\A$CB_TOKEN_RE\z/, 'transaction has a 43-char callback token');
    my $mark = () = fake_requests();
    my $t0 = time;

    my $b1 = cb_body_json($t, 'ACQUIRED');
    accepted(send_cb($b1, token => $t->{token}), 'JSON ACQUIRED');
    is_deeply(tx_state($t), { status => 'ACQUIRED', status_rank => 1 }, 'status ACQUIRED');
    my @cb = rows('SELECT * FROM jumio_callbacks WHERE workflow_id = ? ORDER BY id', $t->{ref});
    is(scalar @cb, 1, 'one callback row');
    my $row = $cb[0] || {};
    is($row->{status}, 'ACQUIRED', 'logged status');
    is($row->{remote_addr}, '127.0.0.1', 'logged remote address');
    is($row->{body}, $b1, 'logged body verbatim');
    ok(($row->{received_at} // 0) >= $t0 - 2 && ($row->{received_at} // 0) <= time + 2, 'received_at is now (Unix seconds)');

    my $b2 = cb_body_form($t, 'PROCESSED');
    accepted(send_cb($b2, token => $t->{token}, ct => 'application/x-www-form-urlencoded'), 'form PROCESSED');
    is_deeply(tx_state($t), { status => 'PROCESSED', status_rank => 2 }, 'status PROCESSED');
    @cb = rows('SELECT * FROM jumio_callbacks WHERE workflow_id = ? ORDER BY id', $t->{ref});
    is(scalar @cb, 2, 'two callback rows');
    is(($cb[1] || {})->{body}, $b2, 'form body logged verbatim');
    is(($cb[1] || {})->{status}, 'PROCESSED', 'form status logged');

    accepted(send_cb(cb_body_json($t, 'PROCESSED'), token => $t->{token}), 'repeated PROCESSED');
    is_deeply(tx_state($t), { status => 'PROCESSED', status_rank => 2 }, 'repeated: status unchanged');
    accepted(send_cb(cb_body_json($t, 'ACQUIRED'), token => $t->{token}), 'older ACQUIRED after PROCESSED');
    is_deeply(tx_state($t), { status => 'PROCESSED', status_rank => 2 }, 'older: status unchanged');
    accepted(send_cb(cb_body_json($t, 'INITIATED'), token => $t->{token}), 'older INITIATED after PROCESSED');
    accepted(send_cb(cb_body_json($t, 'SESSION_EXPIRED'), token => $t->{token}), 'SESSION_EXPIRED after PROCESSED');
    is_deeply(tx_state($t), { status => 'PROCESSED', status_rank => 2 }, 'same rank: status unchanged');
    is(cb_count($t->{ref}), 6, 'every accepted callback was appended to the log');

    my @all = fake_requests();
    my @after = @all[$mark .. $#all];
    is_deeply(call_names(grep { ($_->{endpoint} // '') =~ /\Aaccount_/ } @after), [], 'no account call from callbacks');
    is_deeply(call_names(grep { ($_->{path} // '') =~ /evil/ } fake_requests()), [], 'hrefs in callbacks are never fetched');
}];

push @subtests, ['content types with parameters are accepted' => sub {
    JumioTest::fake_reset();
    my $t = start_tx(tag => 'cbct');
    accepted(send_cb(cb_body_json($t, 'ACQUIRED'), token => $t->{token}, ct => 'application/json; charset=utf-8'),
             'application/json; charset=utf-8');
    is_deeply(tx_state($t), { status => 'ACQUIRED', status_rank => 1 }, 'status ACQUIRED');
    accepted(send_cb(cb_body_form($t, 'SESSION_EXPIRED'), token => $t->{token},
                     ct => 'application/x-www-form-urlencoded; charset=UTF-8'), 'form with charset');
    is_deeply(tx_state($t), { status => 'SESSION_EXPIRED', status_rank => 2 }, 'status SESSION_EXPIRED');
}];

push @subtests, ['expiry statuses are final: TOKEN_EXPIRED then PROCESSED changes nothing' => sub {
    JumioTest::fake_reset();
    my $t = start_tx(tag => 'cbexp');
    accepted(send_cb(cb_body_form($t, 'TOKEN_EXPIRED'), token => $t->{token}, ct => 'application/x-www-form-urlencoded'),
             'TOKEN_EXPIRED');
    is_deeply(tx_state($t), { status => 'TOKEN_EXPIRED', status_rank => 2 }, 'status TOKEN_EXPIRED');
    accepted(send_cb(cb_body_json($t, 'PROCESSED'), token => $t->{token}), 'PROCESSED after TOKEN_EXPIRED');
    is_deeply(tx_state($t), { status => 'TOKEN_EXPIRED', status_rank => 2 }, 'still TOKEN_EXPIRED');
    my $t2 = start_tx(tag => 'cbexp2');
    accepted(send_cb(cb_body_json($t2, 'SESSION_EXPIRED'), token => $t2->{token}), 'INITIATED -> SESSION_EXPIRED');
    is_deeply(tx_state($t2), { status => 'SESSION_EXPIRED', status_rank => 2 }, 'status SESSION_EXPIRED');
}];

push @subtests, ['body callbackUrl with a query: the callback at that URL is accepted' => sub {
    JumioTest::fake_reset();
    my $cb2 = "http://127.0.0.1:$PORT/jumio/callback2?src=portal";
    my $t = start_tx(tag => 'cbq', body => $JSON->encode({ callbackUrl => $cb2 }),
                     headers => ['Content-Type' => 'application/json']);
    like($t->{url}, qr/\A\Q$cb2\E&jumio_token=$CB_TOKEN_RE\z/, 'sent callbackUrl');
    my ($path) = $t->{url} =~ m{\Ahttp://[^/]+(/.*)\z};
    my $res = request(POST => $path, body => cb_body_json($t, 'PROCESSED'), headers => ['Content-Type' => 'application/json']);
    accepted($res, 'callback at /jumio/callback2?src=portal&jumio_token=...');
    is_deeply(tx_state($t), { status => 'PROCESSED', status_rank => 2 }, 'status PROCESSED');
}];

push @subtests, ['invalid callback bodies: 400 bad_request, nothing changed' => sub {
    JumioTest::fake_reset();
    my $t = start_tx(tag => 'cbbad');
    JumioTest::fake_reset();
    my $state = tx_state($t);
    my ($all, $wf) = (cb_count(), cb_count($t->{ref}));
    my $ok = $JSON->decode(cb_body_json($t, 'PROCESSED'));
    my $with = sub { my $f = shift; my $c = $JSON->decode($JSON->encode($ok)); $f->($c); $JSON->encode($c) };
    my @json = (
        [ 'workflowExecution.id not a UUID', $with->(sub { $_[0]{workflowExecution}{id} = 'not-a-uuid' }) ],
        [ 'workflowExecution.id with junk',  $with->(sub { $_[0]{workflowExecution}{id} .= 'x' }) ],
        [ 'account.id not a UUID',           $with->(sub { $_[0]{account}{id} = '../../etc/passwd' }) ],
        [ 'unknown status',                  $with->(sub { $_[0]{workflowExecution}{status} = 'DONE' }) ],
        [ 'lower-case status',               $with->(sub { $_[0]{workflowExecution}{status} = 'processed' }) ],
        [ 'status a number',                 $with->(sub { $_[0]{workflowExecution}{status} = 2 }) ],
        [ 'missing workflowExecution.id',    $with->(sub { delete $_[0]{workflowExecution}{id} }) ],
        [ 'missing workflowExecution.status', $with->(sub { delete $_[0]{workflowExecution}{status} }) ],
        [ 'missing account.id',              $with->(sub { delete $_[0]{account}{id} }) ],
        [ 'missing account',                 $with->(sub { delete $_[0]{account} }) ],
        [ 'workflowExecution a string',      $with->(sub { $_[0]{workflowExecution} = $t->{ref} }) ],
        [ 'id an array',                     $with->(sub { $_[0]{workflowExecution}{id} = [ $t->{ref} ] }) ],
        [ 'array body',                      '[]' ],
        [ 'string body',                     '"PROCESSED"' ],
        [ 'malformed JSON',                  '{"workflowExecution":' ],
        [ 'empty body',                      '' ],
    );
    for my $c (@json) {
        my ($name, $body) = @$c;
        # with the right token: the body is refused first (400, not 403)
        is_error(send_cb($body, token => $t->{token}), 400, 'bad_request', "JSON: $name");
        unchanged($t, "JSON: $name", $state, $all, $wf);
    }
    is_error(send_cb('[]'), 400, 'bad_request', 'invalid body without token: 400 before the token check');
    my $form_ok = cb_body_form($t, 'PROCESSED');
    my @form = (
        [ 'invalid id',     do { (my $b = $form_ok) =~ s/workflowExecution\.id=[^&]*/workflowExecution.id=1234/; $b } ],
        [ 'missing status', join('&', grep { !/^workflowExecution\.status=/ } split /&/, $form_ok) ],
        [ 'missing account.id', join('&', grep { !/^account\.id=/ } split /&/, $form_ok) ],
        [ 'unknown status', do { (my $b = $form_ok) =~ s/workflowExecution\.status=[^&]*/workflowExecution.status=FINISHED/; $b } ],
    );
    for my $c (@form) {
        my ($name, $body) = @$c;
        is_error(send_cb($body, token => $t->{token}, ct => 'application/x-www-form-urlencoded'), 400, 'bad_request', "form: $name");
        unchanged($t, "form: $name", $state, $all, $wf);
    }
    for my $ct ('text/plain', 'application/xml', 'multipart/form-data; boundary=x') {
        is_error(send_cb(cb_body_json($t, 'PROCESSED'), token => $t->{token}, ct => $ct), 415, 'unsupported_media_type', "Content-Type $ct");
        unchanged($t, "Content-Type $ct", $state, $all, $wf);
    }
    my $big = $with->(sub { $_[0]{padding} = 'x' x 17000 });
    is_error(send_cb($big, token => $t->{token}), 413, 'body_too_large', 'callback over 16 KiB');
    unchanged($t, 'callback over 16 KiB', $state, $all, $wf);
    my $res = request(POST => "/jumio/callback?jumio_token=$t->{token}", headers => ['Content-Type' => 'application/json'],
                      chunked => [ map { substr($big, $_ * 5000, 5000) } 0 .. 3 ]);
    is_error($res, 413, 'body_too_large', 'chunked callback over 16 KiB');
    unchanged($t, 'chunked callback over 16 KiB', $state, $all, $wf);
    nothing_sent('invalid callbacks', $t->{ref});
}];

push @subtests, ['callbacks without the right jumio_token: 403 forbidden, nothing changed' => sub {
    JumioTest::fake_reset();
    my $t  = start_tx(tag => 'cbsig');
    my $t2 = start_tx(tag => 'cbsig2');
    my $tm = start_tx(tag => 'cbsigmin', path => '/jumio/intake-minimal');
    ok(!defined $tm->{token}, 'the minimal transaction has no callback token');
    my $state  = tx_state($t);
    my $statem = tx_state($tm);
    my $all = cb_count();
    my $body = cb_body_json($t, 'PROCESSED');
    my $wrong = $t->{token}; substr($wrong, 0, 1) = substr($wrong, 0, 1) eq 'A' ? 'B' : 'A';
    my @cases = (
        [ 'no jumio_token',          send_cb($body) ],
        [ 'empty jumio_token',       send_cb($body, token => '') ],
        [ 'wrong jumio_token',       send_cb($body, token => $wrong) ],
        [ 'truncated jumio_token',   send_cb($body, token => substr($t->{token}, 0, 42)) ],
        [ 'token with suffix',       send_cb($body, token => $t->{token} . 'A') ],
        [ "other transaction's token", send_cb($body, token => $t2->{token}) ],
        [ 'token in another parameter', request(POST => "/jumio/callback?token=$t->{token}", body => $body,
                                                headers => ['Content-Type' => 'application/json']) ],
        [ 'form, no token',          send_cb(cb_body_form($t, 'PROCESSED'), ct => 'application/x-www-form-urlencoded') ],
        [ 'token in the form body',  send_cb(cb_body_form($t, 'PROCESSED') . "&jumio_token=$t->{token}",
                                             ct => 'application/x-www-form-urlencoded') ],
    );
    for my $c (@cases) {
        is_error($c->[1], 403, 'forbidden', $c->[0]);
        unchanged($t, $c->[0], $state, $all, 0);
    }
    my $unknown = { ref => uuid_v4(), account => $t->{account} };
    is_error(send_cb(cb_body_json($unknown, 'PROCESSED'), token => $t->{token}), 403, 'forbidden', 'unknown transaction');
    is(cb_count(), $all, 'unknown transaction: nothing logged');
    for my $c ([ 'no token', undef ], [ "another transaction's token", $t->{token} ]) {
        is_error(send_cb(cb_body_json($tm, 'PROCESSED'), token => $c->[1]), 403, 'forbidden', "unsigned transaction, $c->[0]");
        is_deeply(tx_state($tm), $statem, "unsigned transaction, $c->[0]: unchanged");
        is(cb_count(), $all, "unsigned transaction, $c->[0]: nothing logged");
    }
    # the transactions are still fine with their own tokens afterwards
    accepted(send_cb(cb_body_json($t2, 'ACQUIRED'), token => $t2->{token}), 'own token still accepted');
    is_deeply(tx_state($t2), { status => 'ACQUIRED', status_rank => 1 }, 'status ACQUIRED');
}];

push @subtests, ['callback hrefs are never fetched; the 200 does not wait for Jumio' => sub {
    JumioTest::fake_reset();
    my $t = start_tx(tag => 'ssrf');
    # Details are slow now: a callback handler that fetched them would take 3 s.
    JumioTest::fake_control('details', { delay => 3 });
    my $body = $JSON->encode({
        workflowExecution => { id => $t->{ref}, status => 'PROCESSED',
                               href => "$EVIL/workflow?steal=1", definitionKey => '3' },
        account => { id => $t->{account}, href => "$EVIL/account" },
        callbackSentAt => '2024-05-01T10:00:00.000Z',
    });
    my $t0 = Time::HiRes::time();
    my $res = send_cb($body, token => $t->{token});
    my $elapsed = Time::HiRes::time() - $t0;
    accepted($res, 'PROCESSED with foreign hrefs');
    ok($elapsed < 1.5, 'answered at once, without waiting for Jumio') or diag("took $elapsed s");
    sleep 5;
    is_deeply(call_names(grep { ($_->{path} // '') =~ /evil/ || ($_->{query} // '') =~ /steal/ } fake_requests()), [],
              'nothing fetched from the hrefs (/fake/evil)');
    my @mine = grep { index($_->{path} // '', $t->{ref}) >= 0 } fake_requests();
    is_deeply([ sort map { "$_->{method} $_->{path}" } @mine ],
              [ map { "GET /fake/retrieval/api/v1/accounts/$t->{account}/workflow-executions/$t->{ref}" } @mine ],
              'any retrieval is built from the configured endpoint and the validated ids');
    ok(@mine <= 1, 'details fetched at most once') or diag(scalar(@mine) . ' retrievals');
    is(scalar(grep { ($_->{endpoint} // '') =~ /\Aaccount_/ } fake_requests()), 1, 'no account call after the intake');
    JumioTest::fake_control('details');
}];

plan tests => scalar(@subtests), need_module('mod_perl.c');
subtest $_->[0] => $_->[1] for @subtests;
