# t/poll.t - jumio-poll: ownership, answers per status, details fetched once, decisions, JumioPollData, remote-user.
# Asserts the behaviour docs/DESIGN.md describes; see t/README.md for the fake Jumio.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

use JSON::PP ();
use MIME::Base64 ();
use Time::HiRes ();

# A workflow details document as Jumio's Retrieval API gives it; %caps: name => [decision types].
sub details_doc {
    my ($t, $caps, %o) = @_;
    my $idc = uuid_v4(); my $face = uuid_v4();
    my %capabilities;
    for my $name (sort keys %$caps) {
        $capabilities{$name} = [ map { {
            id => uuid_v4(),
            credentials => [ { id => $idc, category => 'ID' } ],
            decision => { type => $_, details => { label => $_ eq 'PASSED' ? 'OK' : 'BAD_QUALITY' } },
        } } @{ $caps->{$name} } ];
    }
    return {
        workflow => { id => $t->{ref}, status => 'PROCESSED', definitionKey => '3',
                      userReference => $t->{user}, customerInternalReference => uuid_v4() },
        account => { id => $t->{account} },
        createdAt => '2024-05-01T10:00:00.000Z', startedAt => '2024-05-01T10:00:01.000Z',
        completedAt => '2024-05-01T10:03:00.000Z',
        credentials => [ { id => $idc, category => 'ID', parts => [ { classifier => 'FRONT', href => 'https://x.example/front' } ] },
                         { id => $face, category => 'SELFIE', parts => [ { classifier => 'FACE', href => 'https://x.example/face' } ] } ],
        capabilities => \%capabilities,
        ($o{decision} ? (decision => { type => $o{decision}, details => { label => $o{decision} }, risk => { score => 50 } }) : ()),
    };
}

# A fresh fake and a transaction ready for its first final poll: details_doc($t, $caps, %o)
# set at the fake, the PROCESSED callback acknowledged.  Returns ($t, the details).
sub decided_tx {
    my ($tag, $caps, %o) = @_;
    JumioTest::fake_reset();
    my $t = processed_tx(tag => $tag, details => sub { details_doc($_[0], $caps, %o) });
    return ($t, $t->{details});
}

sub final_answer {
    my ($t, $decision, $data) = @_;
    return { done => JSON::PP::true, transactionReference => $t->{ref}, status => 'PROCESSED',
             decision => $decision, data => $data };
}

my @subtests;

push @subtests, ['poll errors: 400 without X-Transaction-Reference, 404 for non-UUID / unknown / foreign' => sub {
    JumioTest::fake_reset();
    my $t = start_tx(tag => 'owner');
    my $intruder = new_user('intruder');
    my $r = request(GET => '/jumio/poll', user => $intruder);
    is_error($r, 400, 'bad_request', 'missing X-Transaction-Reference');
    for my $bad ('not-a-uuid', "$t->{ref}x", "{$t->{ref}}", '../../etc/passwd', "$t->{ref}' OR '1'='1") {
        is_error(poll_tx($t, user => $t->{user}, ref => $bad), 404, 'not_found', "reference '$bad'");
    }
    my $unknown = poll_tx($t, user => $intruder, ref => uuid_v4());
    is_error($unknown, 404, 'not_found', 'unknown reference');
    my $foreign = poll_tx($t, user => $intruder);
    is_error($foreign, 404, 'not_found', "another user's reference");
    is($foreign->content, $unknown->content, "another user's reference: same body as an unknown one");
    my $foreign_full = poll_tx($t, user => $intruder, path => '/jumio/poll-full');
    is_error($foreign_full, 404, 'not_found', "another user's reference (full mode)");
    my $upper = poll_tx($t, user => $intruder, ref => uc $t->{ref});
    is($upper->code, 404, "another user's reference in upper case: 404");
    is_deeply(call_names(grep { ($_->{endpoint} // "") =~ /\A(?:details|status)\z/ } fake_requests()), [], 'no retrieval call for refused polls');
}];

push @subtests, ['not final: INITIATED, then ACQUIRED via callback' => sub {
    JumioTest::fake_reset();
    my $t = start_tx(tag => 'notfinal');
    JumioTest::fake_reset();
    my $d = poll_answer($t, 'INITIATED');
    is_deeply($d, { done => JSON::PP::false, transactionReference => $t->{ref}, status => 'INITIATED' },
              'INITIATED answer exactly');
    callback_ok($t, 'ACQUIRED');
    my $d2 = poll_answer($t, 'ACQUIRED');
    is_deeply($d2, { done => JSON::PP::false, transactionReference => $t->{ref}, status => 'ACQUIRED' },
              'ACQUIRED answer exactly');
    nothing_sent('young transaction, not final: no Jumio call');
}];

push @subtests, ['PROCESSED: details fetched once, decision mode answer' => sub {
    my ($t, $doc) = decided_tx('processed', { usability => [qw(PASSED PASSED)], imageChecks => ['PASSED'],
                                                extraction => ['PASSED'], liveness => ['PASSED'] });
    my $expect = final_answer($t, 'PASSED', { definitionKey => '3', capabilities =>
        { usability => 'PASSED', imageChecks => 'PASSED', extraction => 'PASSED', liveness => 'PASSED' } });
    my $d = poll_until_done($t, 'first final poll');
    is_deeply($d, $expect, 'answer: done, PROCESSED, PASSED, decision data');
    my @det = tx_calls($t, 'details', with_stale => 1);
    is(scalar @det, 1, 'details fetched once');
    my $c = $det[0] || {};
    is($c->{method}, 'GET', 'details: GET');
    is($c->{path}, "/fake/retrieval/api/v1/accounts/$t->{account}/workflow-executions/$t->{ref}", 'details: path from the stored ids');
    is($c->{headers}{accept}, 'application/json', 'details: Accept');
    like($c->{headers}{authorization} // '', qr/\ABearer \S+\z/, 'details: Authorization Bearer');
    is($c->{headers}{'user-agent'}, $UA_STRING, 'details: User-Agent');
    is($c->{answer_status}, 200, 'details: answered 200');
    no_violations('details');
    my $row = tx_row($t);
    is_deeply(eval { $JSON->decode($row->{details} // 'null') }, $doc, 'details stored');
    is($row->{decision}, 'PASSED', 'decision stored');

    my $d2 = poll_answer($t, 'second final poll');
    is_deeply($d2, $expect, 'second poll: same answer');
    is(scalar(tx_calls($t, 'details', with_stale => 1)), 1, 'second poll: no new details request');
    my $d3 = poll_answer($t, 'full mode after the fetch', path => '/jumio/poll-full');
    is_deeply($d3, final_answer($t, 'PASSED', $doc), 'full mode answers the stored details');
    is(scalar(tx_calls($t, 'details', with_stale => 1)), 1, 'still one details request');
}];

push @subtests, ['JumioPollData full: data is the details object as Jumio returned it' => sub {
    my ($t, $doc) = decided_tx('full', { usability => ['PASSED'], liveness => ['WARNING'] });
    my $d = poll_until_done($t, 'full', path => '/jumio/poll-full');
    is_deeply($d, final_answer($t, 'WARNING', $doc), 'full answer');
    is(scalar(tx_calls($t, 'details', with_stale => 1)), 1, 'one details request');
}];

push @subtests, ['JumioPollData none: data null' => sub {
    my ($t) = decided_tx('none', { usability => ['PASSED'], similarity => ['REJECTED'] });
    my $d = poll_until_done($t, 'none', path => '/jumio/poll-none');
    is_deeply($d, final_answer($t, 'REJECTED', undef), 'none answer: decision, data null');
    is(scalar(tx_calls($t, 'details', with_stale => 1)), 1, 'one details request');
}];

for my $st (qw(SESSION_EXPIRED TOKEN_EXPIRED)) {
    push @subtests, ["$st: done, decision null, data null, no retrieval" => sub {
        JumioTest::fake_reset();
        my $t = start_tx(tag => lc $st);
        callback_ok($t, $st);
        for my $path ('/jumio/poll', '/jumio/poll-full') {
            my $d = poll_answer($t, "$st at $path", path => $path);
            is_deeply($d, { done => JSON::PP::true, transactionReference => $t->{ref}, status => $st,
                            decision => undef, data => undef }, "$st answer exactly ($path)");
        }
        sleep 2;
        is(scalar(tx_calls($t, 'details', with_stale => 1)), 0, 'no details request');
    }];
}

push @subtests, ['retrieval failure: done false, a later poll succeeds' => sub {
    JumioTest::fake_reset();
    my $t = start_tx(tag => 'detfail');
    JumioTest::fake_set_workflow($t->{ref}, status => 'PROCESSED',
                                 details => details_doc($t, { usability => ['PASSED'] }));
    # every details request fails until the rule is lifted (the background task may try too)
    JumioTest::fake_control('details', { status => 500, body => 'oops', content_type => 'text/plain' });
    callback_ok($t, 'PROCESSED');
    my $not = { done => JSON::PP::false, transactionReference => $t->{ref}, status => 'PROCESSED' };
    is_deeply(poll_answer($t, 'details 500'), $not, 'details 500: done false, PROCESSED');
    Time::HiRes::sleep(1.5);
    is_deeply(poll_answer($t, 'details 500 again'), $not, 'details 500 again: done false, PROCESSED');
    JumioTest::fake_control('details', { status => 200, body => 'garbage{', content_type => 'application/json' });
    Time::HiRes::sleep(1.5);
    is_deeply(poll_answer($t, 'details garbage'), $not, 'details garbage: done false, PROCESSED');
    JumioTest::fake_control('details', { status => 200, content_type => 'application/json',
                                         body => '{"workflow":{"status":"PROCESSED"}' });
    Time::HiRes::sleep(1.5);
    is_deeply(poll_answer($t, 'details truncated'), $not, 'details truncated JSON: done false, PROCESSED');
    my $row = tx_row($t);
    ok(!defined $row->{details}, 'nothing stored from failed retrievals');
    my $failed = () = tx_calls($t, 'details', with_stale => 1);
    ok($failed >= 3, 'the failing retrieval was tried in every phase') or diag("$failed details requests");
    JumioTest::fake_control('details');
    my $d = poll_until_done($t, 'details ok');
    is_deeply($d, final_answer($t, 'PASSED', { definitionKey => '3', capabilities => { usability => 'PASSED' } }),
              'later poll: final answer');
    my $stored = tx_row($t);
    is_deeply(eval { $JSON->decode($stored->{details} // 'null') }, JumioTest::fake_workflow($t->{ref})->{details},
              'the details are stored once retrieved');
    my @det = tx_calls($t, 'details', with_stale => 1);
    poll_answer($t, 'after success');
    sleep 2;
    is(scalar(tx_calls($t, 'details', with_stale => 1)), scalar(@det), 'no further details request');
}];

# Decision derivation (docs/DESIGN.md "Decisions"): top-level decision.type wins, else from capabilities.
my @decisions = (
    [ 'a REJECTED capability',        { usability => ['PASSED'], imageChecks => ['PASSED'], liveness => ['REJECTED'] }, undef,
      'REJECTED', { usability => 'PASSED', imageChecks => 'PASSED', liveness => 'REJECTED' } ],
    [ 'a WARNING capability',         { usability => ['PASSED'], similarity => ['WARNING'], imageChecks => [qw(PASSED WARNING)] }, undef,
      'WARNING', { usability => 'PASSED', similarity => 'WARNING', imageChecks => 'WARNING' } ],
    [ 'REJECTED beats WARNING',       { usability => [qw(WARNING PASSED)], extraction => [qw(PASSED REJECTED)] }, undef,
      'REJECTED', { usability => 'WARNING', extraction => 'REJECTED' } ],
    [ 'PASSED with NOT_EXECUTED ones', { usability => ['PASSED'], dataChecks => ['NOT_EXECUTED'], liveness => [qw(PASSED NOT_EXECUTED)] }, undef,
      'PASSED', { usability => 'PASSED', dataChecks => 'NOT_EXECUTED', liveness => 'PASSED' } ],
    [ 'nothing executed',             { usability => ['NOT_EXECUTED'], extraction => ['NOT_EXECUTED'] }, undef,
      'NOT_EXECUTED', { usability => 'NOT_EXECUTED', extraction => 'NOT_EXECUTED' } ],
    [ 'top-level WARNING over PASSED capabilities', { usability => ['PASSED'], liveness => ['PASSED'] }, 'WARNING',
      'WARNING', { usability => 'PASSED', liveness => 'PASSED' } ],
    [ 'top-level PASSED over a REJECTED capability', { usability => ['PASSED'], liveness => ['REJECTED'] }, 'PASSED',
      'PASSED', { usability => 'PASSED', liveness => 'REJECTED' } ],
    [ 'top-level REJECTED',           { usability => ['PASSED'] }, 'REJECTED',
      'REJECTED', { usability => 'PASSED' } ],
);
push @subtests, ['decision: details without capabilities or workflow' => sub {
    JumioTest::fake_reset();
    my $t = start_tx(tag => 'bare');
    JumioTest::fake_set_workflow($t->{ref}, status => 'PROCESSED', details => { account => { id => $t->{account} } });
    callback_ok($t, 'PROCESSED');
    my $d = poll_until_done($t, 'bare details');
    is_deeply($d, final_answer($t, 'NOT_EXECUTED', { definitionKey => undef, capabilities => {} }),
              'NOT_EXECUTED, definitionKey null, no capabilities');
}];

for my $c (@decisions) {
    my ($name, $caps, $top, $decision, $capmap) = @$c;
    push @subtests, ["decision: $name" => sub {
        my ($t) = decided_tx('decision', $caps, decision => $top);
        my $d = poll_until_done($t, $name);
        is_deeply($d, final_answer($t, $decision, { definitionKey => '3', capabilities => $capmap }), "$name: answer");
        my $row = tx_row($t);
        is($row->{decision}, $decision, "$name: decision stored");
    }];
}

push @subtests, ["no callback: the Status API is asked on Jumio's schedule, once per step, 10 at most" => sub {
    JumioTest::fake_reset();
    my $t = start_tx(tag => 'schedule');
    JumioTest::fake_set_workflow($t->{ref}, status => 'ACQUIRED',
                                 details => details_doc($t, { usability => ['PASSED'], liveness => ['PASSED'] }));
    my $status_calls = sub { scalar(tx_calls($t, 'status', with_stale => 1)) };
    my $age = sub { rows('UPDATE jumio_transactions SET created_at = ? WHERE workflow_id = ?', time - $_[0], $t->{ref}) };
    my $checks = sub { tx_row($t)->{status_checks} };
    my $initiated = { done => JSON::PP::false, transactionReference => $t->{ref}, status => 'INITIATED' };
    my $acquired  = { done => JSON::PP::false, transactionReference => $t->{ref}, status => 'ACQUIRED' };

    is_deeply(poll_answer($t, 'young'), $initiated, 'young transaction: INITIATED');
    is($status_calls->(), 0, 'younger than 40 s: no Status API call');

    $age->(45);
    is_deeply(poll_answer($t, '45 s old'), $acquired, "45 s old: the Status API's ACQUIRED");
    is($status_calls->(), 1, '45 s old: one Status API call');
    my ($c) = tx_calls($t, 'status', with_stale => 1);
    is(($c || {})->{method}, 'GET', 'Status API: GET');
    is((($c || {})->{headers} || {})->{'user-agent'}, $UA_STRING, 'Status API: User-Agent');
    is_deeply(($c || {})->{violations} || [], [], 'Status API: no violation');
    is($checks->(), 1, 'status_checks 1');
    is_deeply(poll_answer($t, '45 s old again'), $acquired, 'again: ACQUIRED');
    is($status_calls->(), 1, 'next step (60 s) not reached: no new call');

    $age->(65);
    poll_answer($t, '65 s old');
    is($status_calls->(), 2, '65 s old: second call');
    is($checks->(), 2, 'status_checks 2');

    rows('UPDATE jumio_transactions SET status_checks = 10 WHERE workflow_id = ?', $t->{ref});
    $age->(5000);
    poll_answer($t, '10 checks done');
    sleep 2;
    is($status_calls->(), 2, 'after 10 checks: no more Status API calls');

    JumioTest::fake_set_workflow($t->{ref}, status => 'PROCESSED');
    rows('UPDATE jumio_transactions SET status_checks = 2 WHERE workflow_id = ?', $t->{ref});
    $age->(105);
    my $d = poll_until_done($t, 'PROCESSED via the Status API');
    is_deeply($d, final_answer($t, 'PASSED', { definitionKey => '3', capabilities => { usability => 'PASSED', liveness => 'PASSED' } }),
              'result arrives without a callback');
    is($status_calls->(), 3, 'third call found PROCESSED');
    is(scalar(tx_calls($t, 'details', with_stale => 1)), 1, 'details fetched once');
}];

push @subtests, ['remote-user: alice starts and polls, bob gets 404, no credentials 401' => sub {
    JumioTest::fake_reset();
    my $alice = 'Basic ' . MIME::Base64::encode_base64('alice:alicepw', '');
    my $bob   = 'Basic ' . MIME::Base64::encode_base64('bob:bobpw', '');
    # no Origin or Sec-Fetch-Site (not a browser): remote-user needs the JSON type (t/cross_site.t)
    my $res = request(POST => '/jumio/intake-ru', auth => $alice, content_type => 'application/json');
    is($res->code, 200, 'alice: intake 200') or diag(substr($res->as_string, 0, 600));
    my $d = json_answer($res, 'alice intake') || {};
    my $ref = $d->{transactionReference} // '';
    like($ref, $UUID_RE, 'transactionReference');
    my ($call) = account_calls();
    is((($call || {})->{json} || {})->{userReference}, 'alice', "userReference is alice (r->user)");
    my $row = tx_row($ref);
    is($row->{user_id}, 'alice', 'stored for user alice');

    my $pa = request(GET => '/jumio/poll-ru', auth => $alice, headers => ['X-Transaction-Reference' => $ref]);
    is($pa->code, 200, 'alice polls her reference: 200');
    is_deeply(json_answer($pa, 'alice poll'), { done => JSON::PP::false, transactionReference => $ref, status => 'INITIATED' },
              'alice poll answer');
    my $pb = request(GET => '/jumio/poll-ru', auth => $bob, headers => ['X-Transaction-Reference' => $ref]);
    is_error($pb, 404, 'not_found', "bob polls alice's reference");
    my $pu = request(GET => '/jumio/poll-ru', auth => $bob, headers => ['X-Transaction-Reference' => uuid_v4()]);
    is($pb->content, $pu->content, "bob: same body as for an unknown reference");

    JumioTest::fake_reset();
    my $before = count_rows("SELECT workflow_id FROM jumio_transactions WHERE user_id = 'alice'");
    my $r401 = request(POST => '/jumio/intake-ru');
    is($r401->code, 401, 'no credentials: 401 (from Basic auth)');
    my $r401b = request(POST => '/jumio/intake-ru', auth => 'Basic ' . MIME::Base64::encode_base64('alice:wrong', ''));
    is($r401b->code, 401, 'wrong password: 401');
    nothing_sent('remote-user 401');
    is(count_rows("SELECT workflow_id FROM jumio_transactions WHERE user_id = 'alice'"), $before, 'nothing stored');
}];

plan tests => scalar(@subtests), need_module('mod_perl.c');
subtest $_->[0] => $_->[1] for @subtests;
