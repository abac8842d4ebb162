# t/flow.t - end to end: intake -> callback -> poll; PUT on later intakes; PUT 404 fallback; workflow 9.
# Asserts the contract of SPEC §2-§4 as docs/DESIGN.md details it; see t/README.md for the fake Jumio.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use FakeJumio::State ();

use HTTP::Request ();
use LWP::UserAgent ();
use JSON::PP ();
use MIME::Base64 ();
use Digest::SHA qw(hmac_sha256_hex);
use Time::HiRes ();

# ---------------------------------------------------------------------------
# Local helpers (kept in this file so that it reads on its own).
my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;
my $PORT = Apache::Test::vars('port');
my $UA_STRING   = 'mod_jumio-test/1.0 (Example Corp)';
my $UUID_RE     = qr/\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\z/;
my $UUID4_RE    = qr/\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z/;
my $CB_TOKEN_RE = qr/[A-Za-z0-9_-]{43}/;
my $RUN = sprintf '%x%x', time, $$;
my $SEQ = 0;

# A user id unique to this run and call.
sub new_user { sprintf '%s-%s-%d', shift, $RUN, ++$SEQ }

sub _list { return @{ $_[0] } if @_ == 1 && ref $_[0] eq 'ARRAY'; return @_ }

# Rows of the module's database (an absent table counts as no rows).
sub rows {
    my @r = eval { JumioTest::db_rows(@_) };
    if ($@) { return () if $@ =~ /no such table|does not exist \(yet\)/i; die $@ }
    return _list(@r);
}
sub count_rows { my $sql = shift; scalar(() = rows($sql, @_)) }

# Requests the fake Jumio recorded (optionally of one endpoint).
sub reqs { _list(JumioTest::fake_requests(@_)) }
sub account_calls { grep { ($_->{endpoint} // '') =~ /\Aaccount_(?:create|update)\z/ } reqs() }
sub call_names { [ map { join ' ', $_->{method} // '?', $_->{path} // '?' } @_ ] }

sub uuid_v4 {
    my @b = map { int rand 256 } 1 .. 16;
    $b[6] = ($b[6] & 0x0f) | 0x40; $b[8] = ($b[8] & 0x3f) | 0x80;
    my $h = join '', map { sprintf '%02x', $_ } @b;
    return join '-', substr($h, 0, 8), substr($h, 8, 4), substr($h, 12, 4), substr($h, 16, 4), substr($h, 20);
}

sub b64url { my $s = MIME::Base64::encode_base64(shift, ''); $s =~ tr{+/}{-_}; $s =~ s/=+\z//; $s }

# A compact JWT built here, for the malformed and foreign-algorithm cases.
sub mkjwt {
    my ($header, $claims, $key, $sign_alg) = @_;
    my $input = b64url($JSON->encode($header)) . '.' . b64url($JSON->encode($claims));
    $sign_alg //= $header->{alg};
    my %mac = (HS256 => \&Digest::SHA::hmac_sha256, HS384 => \&Digest::SHA::hmac_sha384,
               HS512 => \&Digest::SHA::hmac_sha512);
    my $sig = $sign_alg eq 'none' ? '' : b64url($mac{$sign_alg}->($input, $key));
    return "$input.$sig";
}

# "Bearer <valid HS256 JWT for user>" made by the harness helper.
sub bearer { my ($user, %extra) = @_; 'Bearer ' . JumioTest::jwt(sub => $user, exp => time + 600, %extra) }

# One HTTP request to the test server. Options: user (valid JWT), auth (raw Authorization),
# headers [k => v, ...], body (string, sent with Content-Length), chunked [pieces], ua.
sub request {
    my ($method, $path, %o) = @_;
    my @h = @{ $o{headers} || [] };
    push @h, Authorization => bearer($o{user}) if defined $o{user};
    push @h, Authorization => $o{auth} if defined $o{auth};
    my $req;
    if ($o{chunked}) {
        my @pieces = @{ $o{chunked} };
        $req = HTTP::Request->new($method => Apache::TestRequest::resolve_url($path), \@h,
                                  sub { shift @pieces });
    }
    else {
        $req = HTTP::Request->new($method => Apache::TestRequest::resolve_url($path), \@h);
        if (defined $o{body}) {
            $req->content($o{body});
            $req->header('Content-Length' => length $o{body});
        }
        elsif ($method eq 'POST' || $method eq 'PUT') {
            $req->header('Content-Length' => 0);
        }
    }
    my $ua = $o{ua} || LWP::UserAgent->new(timeout => 60, max_redirect => 0, keep_alive => 0);
    return $ua->request($req);
}

sub decode_json_body {
    my $res = shift;
    my $d = eval { $JSON->decode($res->content) };
    return $@ ? undef : $d;
}

# Common headers of every answer; returns the decoded JSON body.
sub json_answer {
    my ($res, $name) = @_;
    like($res->header('Content-Type') // '', qr{\Aapplication/json(?:\s*;\s*charset="?utf-8"?)?\z}i,
         "$name: Content-Type application/json");
    is($res->header('Cache-Control'), 'no-store', "$name: Cache-Control no-store");
    my $d = decode_json_body($res);
    ok(defined $d || $res->content =~ /\A\s*null\s*\z/, "$name: body is JSON")
        or diag('body: ' . substr($res->content, 0, 500));
    return $d;
}

# An error answer exactly as SPEC §2 / DESIGN.md say.
sub is_error {
    my ($res, $status, $code, $name) = @_;
    is($res->code, $status, "$name: HTTP $status")
        or diag(substr($res->as_string, 0, 800));
    my $d = json_answer($res, $name);
    is(ref $d, 'HASH', "$name: body is an object");
    $d = {} unless ref $d eq 'HASH';
    is($d->{error}, $code, "$name: error $code");
    ok(defined $d->{message} && !ref $d->{message} && $d->{message} =~ /\S/, "$name: message is a sentence");
    is_deeply([ sort keys %$d ], [qw(error message)], "$name: only error and message");
    if ($status == 401) {
        is($res->header('WWW-Authenticate'), 'Bearer error="invalid_token"', "$name: WWW-Authenticate");
    }
    return $d;
}

# Nothing sent to Jumio for this request: no account call, and no retrieval call for the
# transactions named (the module's background task may be busy with older transactions).
sub nothing_sent {
    my ($name, @ids) = @_;
    my @c = grep {
        my $r = $_;
        ($r->{endpoint} // '') =~ /\Aaccount_/ || grep { index($r->{path} // '', $_) >= 0 } @ids
    } reqs();
    is_deeply(call_names(@c), [], "$name: nothing sent to Jumio");
}

sub nothing_stored {
    my ($user, $name) = @_;
    is(count_rows('SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', $user), 0,
       "$name: no transaction stored");
    is(count_rows('SELECT user_id FROM jumio_accounts WHERE user_id = ?', $user), 0,
       "$name: no account stored");
}

# 1 when the fake Jumio issued this access token (and it is still valid).
sub issued_token { FakeJumio::State->new(JumioTest::fake_dir())->token_valid($_[0]) ? 1 : 0 }

sub no_violations {
    my $name = shift;
    my @bad = grep { @{ $_->{violations} || [] } } reqs();
    is_deeply([ map { "$_->{method} $_->{path}: @{$_->{violations}}" } @bad ], [],
              "$name: the fake Jumio recorded no violations");
}
# ---------------------------------------------------------------------------

my $CB = "http://127.0.0.1:$PORT/jumio/callback";

sub intake_tx {
    my ($user, $loc, $name) = @_;
    my $n = () = account_calls();
    my $res = request(POST => $loc || '/jumio/intake', user => $user);
    is($res->code, 200, "$name: HTTP 200") or diag(substr($res->as_string, 0, 800));
    my $d = json_answer($res, $name) || {};
    my @calls = account_calls();
    my @new = @calls[$n .. $#calls];
    my $ref = $d->{transactionReference} // '';
    my $tx = (rows('SELECT * FROM jumio_transactions WHERE workflow_id = ?', $ref))[0] || {};
    my ($token) = ((($new[-1] || {})->{json} || {})->{callbackUrl} // '') =~ /[?&]jumio_token=([^&]*)/;
    return { ref => $ref, account => $tx->{account_id}, token => $token, user => $user, answer => $d,
             calls => \@new, tx => $tx };
}

sub send_callback {
    my ($t, $status, $form) = @_;
    my ($body, $ct);
    if ($form) {
        $body = "workflowExecution.id=$t->{ref}&workflowExecution.status=$status&account.id=$t->{account}"
              . "&workflowExecution.definitionKey=3&callbackSentAt=2024-05-01T10%3A00%3A00.000Z";
        $ct = 'application/x-www-form-urlencoded';
    }
    else {
        $body = $JSON->encode({ workflowExecution => { id => $t->{ref}, status => $status },
                                account => { id => $t->{account} } });
        $ct = 'application/json';
    }
    my $res = request(POST => "/jumio/callback?jumio_token=" . ($t->{token} // ''), body => $body,
                      headers => ['Content-Type' => $ct]);
    is($res->code, 200, "callback $status: 200") or diag(substr($res->as_string, 0, 600));
}

sub poll_tx {
    my ($t, $name) = @_;
    my $res = request(GET => '/jumio/poll', user => $t->{user}, headers => ['X-Transaction-Reference' => $t->{ref}]);
    is($res->code, 200, "$name: HTTP 200") or diag(substr($res->as_string, 0, 800));
    return json_answer($res, $name);
}

# Polls until done: while the details are in flight the answer is {done: false, PROCESSED}.
sub poll_until_done {
    my ($t, $name) = @_;
    for my $i (1 .. 20) {
        my $d = poll_tx($t, "$name (poll $i)");
        return $d unless ref $d eq 'HASH' && JSON::PP::is_bool($d->{done}) && !$d->{done};
        is_deeply($d, { done => JSON::PP::false, transactionReference => $t->{ref}, status => 'PROCESSED' },
                  "$name (poll $i): not done yet, PROCESSED");
        Time::HiRes::sleep(0.5);
    }
    fail("$name: done within 10 s");
    return undef;
}

sub details_of { my $t = shift; grep { ($_->{path} // '') =~ /\Q$t->{ref}\E/ } reqs('details') }

sub account_row { (rows('SELECT * FROM jumio_accounts WHERE user_id = ?', $_[0]))[0] }
sub creds_of {
    my $row = shift || {};
    my $c = eval { $JSON->decode($row->{credentials} // 'null') };
    return ref $c eq 'ARRAY' ? [ grep { ref eq 'HASH' } @$c ] : [];
}
sub cred_id { my ($row, $cat) = @_; (map { $_->{id} } grep { ($_->{category} // '') eq $cat } @{ creds_of($row) })[0] }

my @WF3_BODY_KEYS = qw(callbackUrl customerInternalReference tokenLifetime userReference web workflowDefinition);

my @subtests;

push @subtests, ['end to end: intake -> callbacks -> polls, details fetched once' => sub {
    JumioTest::fake_reset();
    my $user = new_user('e2e');
    my $t = intake_tx($user, '/jumio/intake', 'intake');
    is_deeply(call_names(@{ $t->{calls} }), ['POST /fake/account/api/v1/accounts'], 'account created with POST');
    JumioTest::fake_set_workflow($t->{ref}, status => 'PROCESSED', details => {
        workflow => { id => $t->{ref}, status => 'PROCESSED', definitionKey => '3' },
        account => { id => $t->{account} },
        capabilities => { usability => [ { decision => { type => 'PASSED', details => { label => 'OK' } } } ],
                          liveness  => [ { decision => { type => 'PASSED', details => { label => 'OK' } } } ] },
    });
    is_deeply(poll_tx($t, 'poll 1'), { done => JSON::PP::false, transactionReference => $t->{ref}, status => 'INITIATED' }, 'INITIATED');
    send_callback($t, 'ACQUIRED', 0);
    is_deeply(poll_tx($t, 'poll 2'), { done => JSON::PP::false, transactionReference => $t->{ref}, status => 'ACQUIRED' }, 'ACQUIRED');
    is(scalar(details_of($t)), 0, 'no details before PROCESSED');
    send_callback($t, 'PROCESSED', 1);
    my $final = { done => JSON::PP::true, transactionReference => $t->{ref}, status => 'PROCESSED', decision => 'PASSED',
                  data => { definitionKey => '3', capabilities => { usability => 'PASSED', liveness => 'PASSED' } } };
    is_deeply(poll_until_done($t, 'poll 3'), $final, 'PROCESSED, PASSED');
    is_deeply(poll_tx($t, 'poll 4'), $final, 'same again');
    sleep 2;
    is_deeply(poll_tx($t, 'poll 5'), $final, 'and again');
    my @det = details_of($t);
    is_deeply(call_names(@det), ["GET /fake/retrieval/api/v1/accounts/$t->{account}/workflow-executions/$t->{ref}"],
              'details fetched exactly once');
    is(count_rows('SELECT id FROM jumio_callbacks WHERE workflow_id = ?', $t->{ref}), 2, 'two callbacks logged');
    my $row = (rows('SELECT status, decision FROM jumio_transactions WHERE workflow_id = ?', $t->{ref}))[0] || {};
    is_deeply($row, { status => 'PROCESSED', decision => 'PASSED' }, 'stored status and decision');
    no_violations('end to end');
}];

push @subtests, ['second intake of a user: PUT /accounts/<id>, same account, fresh references' => sub {
    JumioTest::fake_reset();
    my $user = new_user('again');
    my $t1 = intake_tx($user, '/jumio/intake', 'first intake');
    my $acc1 = account_row($user) || {};
    my $t2 = intake_tx($user, '/jumio/intake', 'second intake');
    is_deeply(call_names(@{ $t2->{calls} }), ["PUT /fake/account/api/v1/accounts/$t1->{account}"], 'second intake: PUT to the stored account');
    my $c = $t2->{calls}[-1] || {};
    is($c->{endpoint}, 'account_update', 'account_update endpoint');
    is($c->{answer_status}, 200, 'answered 200');
    is($c->{headers}{accept}, 'application/json', 'Accept');
    like($c->{headers}{'content-type'} // '', qr{\Aapplication/json}i, 'Content-Type');
    like($c->{headers}{authorization} // '', qr/\ABearer \S+\z/, 'Authorization Bearer');
    is($c->{headers}{'user-agent'}, $UA_STRING, 'User-Agent');
    my $b = $c->{json} || {};
    is_deeply([ sort keys %$b ], \@WF3_BODY_KEYS, 'same body fields as a POST');
    is(($b->{workflowDefinition} || {})->{key}, 3, 'key 3');
    is($b->{userReference}, $user, 'userReference');
    like($b->{callbackUrl} // '', qr/\A\Q$CB\E\?jumio_token=$CB_TOKEN_RE\z/, 'signed callbackUrl');
    isnt($b->{customerInternalReference}, ($t1->{calls}[-1]{json} || {})->{customerInternalReference}, 'new customerInternalReference');
    isnt($t2->{token}, $t1->{token}, 'new callback token');
    isnt($t2->{ref}, $t1->{ref}, 'new transaction');
    is($t2->{account}, $t1->{account}, 'same account id stored on the transaction');
    my @acc = rows('SELECT * FROM jumio_accounts WHERE user_id = ?', $user);
    is(scalar @acc, 1, 'still one account row');
    is(($acc[0] || {})->{account_id}, $acc1->{account_id}, 'same account');
    is(count_rows('SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', $user), 2, 'two transactions');
    is_deeply(poll_tx($t1, 'first transaction still pollable'),
              { done => JSON::PP::false, transactionReference => $t1->{ref}, status => 'INITIATED' }, 'first transaction answer');
    no_violations('PUT');
}];

push @subtests, ['PUT answered 404: POST creates a new account that replaces the stored one' => sub {
    JumioTest::fake_reset();
    my $user = new_user('gone');
    my $t1 = intake_tx($user, '/jumio/intake', 'first intake');
    JumioTest::fake_control('account_update', { status => 404, content_type => 'application/json',
                                                body => '{"title":"Not Found","status":404}', times => 1 });
    my $t2 = intake_tx($user, '/jumio/intake', 'intake after account deletion');
    is_deeply(call_names(@{ $t2->{calls} }),
              ["PUT /fake/account/api/v1/accounts/$t1->{account}", 'POST /fake/account/api/v1/accounts'],
              'PUT, then POST');
    is(($t2->{calls}[0] || {})->{answer_status}, 404, 'PUT got 404');
    is(($t2->{calls}[1] || {})->{answer_status}, 200, 'POST got 200');
    like($t2->{account} // '', $UUID_RE, 'new account id');
    isnt($t2->{account}, $t1->{account}, 'a different account');
    my @acc = rows('SELECT * FROM jumio_accounts WHERE user_id = ?', $user);
    is(scalar @acc, 1, 'one account row');
    is(($acc[0] || {})->{account_id}, $t2->{account}, 'stored account replaced');
    is(JumioTest::fake_workflow($t2->{ref})->{account_id}, $t2->{account}, "stored account = the fake's");
    my $t3 = intake_tx($user, '/jumio/intake', 'third intake');
    is_deeply(call_names(@{ $t3->{calls} }), ["PUT /fake/account/api/v1/accounts/$t2->{account}"], 'next intake: PUT to the new account');
}];

push @subtests, ['PUT answered 500: 502 upstream_error, no POST, nothing changed' => sub {
    JumioTest::fake_reset();
    my $user = new_user('put500');
    my $t1 = intake_tx($user, '/jumio/intake', 'first intake');
    my $acc = account_row($user);
    JumioTest::fake_control('account_update', { status => 500, body => 'down', content_type => 'text/plain', times => 1 });
    my $res = request(POST => '/jumio/intake', user => $user);
    is_error($res, 502, 'upstream_error', 'PUT 500');
    is(scalar(reqs('account_create')), 1, 'no POST after a PUT 500');
    is_deeply(account_row($user), $acc, 'account row unchanged');
    is(count_rows('SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', $user), 1, 'no new transaction');
}];

push @subtests, ['workflow 9 after a workflow 3 enrolment sends the stored ID credential id' => sub {
    JumioTest::fake_reset();
    my $user = new_user('auth');
    my $t1 = intake_tx($user, '/jumio/intake', 'enrolment (workflow 3)');
    my $row = account_row($user) || {};
    my ($id_cred) = map { $_->{id} } grep { $_->{category} eq 'ID' }
                    @{ (JumioTest::fake_workflow($t1->{ref}) || {})->{credentials} || [] };
    like($id_cred // '', $UUID_RE, 'Jumio issued an ID credential for the enrolment');
    is(cred_id($row, 'ID'), $id_cred, 'enrolment stored the ID credential id');
    for my $i (1, 2) {
        my $t = intake_tx($user, '/jumio/intake-auth', "authentication $i (workflow 9)");
        is_deeply(call_names(@{ $t->{calls} }), ["PUT /fake/account/api/v1/accounts/$t1->{account}"], "authentication $i: PUT to the account");
        my $c = $t->{calls}[-1] || {};
        my $b = $c->{json} || {};
        like($c->{body} // '', qr/"key"\s*:\s*9\s*[,}]/, "authentication $i: key is the JSON number 9");
        is_deeply($b->{workflowDefinition}, { key => 9, credentials => [ { id => $id_cred, category => 'ID' }, { category => 'FACEMAP' } ] },
                  "authentication $i: workflowDefinition as the transition guide shows");
        like($b->{customerInternalReference} // '', $UUID4_RE, "authentication $i: customerInternalReference");
        is($b->{userReference}, $user, "authentication $i: userReference");
        like($b->{callbackUrl} // '', qr/\A\Q$CB\E\?jumio_token=$CB_TOKEN_RE\z/, "authentication $i: signed callbackUrl");
        is($t->{tx}{workflow_key}, 9, "authentication $i: stored workflow_key 9");
        is($t->{tx}{status}, 'INITIATED', "authentication $i: stored INITIATED");
        is_deeply((account_row($user) || {})->{credentials}, $row->{credentials}, "authentication $i: enrolment credentials kept");
    }
    no_violations('workflow 9');
}];

push @subtests, ['workflow 9 without an enrolment: 409 no_enrolment, nothing sent or stored' => sub {
    JumioTest::fake_reset();
    my $user = new_user('noenrol');
    my $res = request(POST => '/jumio/intake-auth', user => $user);
    is_error($res, 409, 'no_enrolment', 'workflow 9 for a new user');
    is_deeply(call_names(account_calls()), [], 'no account call');
    nothing_stored($user, 'no enrolment');
}];

plan tests => scalar(@subtests), need_module('mod_perl.c');
subtest $_->[0] => $_->[1] for @subtests;
