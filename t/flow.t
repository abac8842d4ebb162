# t/flow.t - end to end: intake -> callback -> poll; PUT on later intakes; PUT 404 fallback; workflow 9.
# Asserts the behaviour docs/DESIGN.md describes; see t/README.md for the fake Jumio.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

use JSON::PP ();

my $CB = "http://127.0.0.1:$PORT/jumio/callback";

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
    my $t = start_tx(user => $user, name => 'intake');
    is_deeply(call_names(@{ $t->{calls} }), ['POST /fake/account/api/v1/accounts'], 'account created with POST');
    JumioTest::fake_set_workflow($t->{ref}, status => 'PROCESSED', details => {
        workflow => { id => $t->{ref}, status => 'PROCESSED', definitionKey => '3' },
        account => { id => $t->{account} },
        capabilities => { usability => [ { decision => { type => 'PASSED', details => { label => 'OK' } } } ],
                          liveness  => [ { decision => { type => 'PASSED', details => { label => 'OK' } } } ] },
    });
    is_deeply(poll_answer($t, 'poll 1'), { done => JSON::PP::false, transactionReference => $t->{ref}, status => 'INITIATED' }, 'INITIATED');
    callback_ok($t, 'ACQUIRED');
    is_deeply(poll_answer($t, 'poll 2'), { done => JSON::PP::false, transactionReference => $t->{ref}, status => 'ACQUIRED' }, 'ACQUIRED');
    is(scalar(tx_calls($t, 'details', with_stale => 1)), 0, 'no details before PROCESSED');
    callback_ok($t, 'PROCESSED', form => 1);
    my $final = { done => JSON::PP::true, transactionReference => $t->{ref}, status => 'PROCESSED', decision => 'PASSED',
                  data => { definitionKey => '3', capabilities => { usability => 'PASSED', liveness => 'PASSED' } } };
    is_deeply(poll_until_done($t, 'poll 3'), $final, 'PROCESSED, PASSED');
    is_deeply(poll_answer($t, 'poll 4'), $final, 'same again');
    sleep 2;
    is_deeply(poll_answer($t, 'poll 5'), $final, 'and again');
    my @det = tx_calls($t, 'details', with_stale => 1);
    is_deeply(call_names(@det), ["GET /fake/retrieval/api/v1/accounts/$t->{account}/workflow-executions/$t->{ref}"],
              'details fetched exactly once');
    is(count_rows('SELECT id FROM jumio_callbacks WHERE workflow_id = ?', $t->{ref}), 2, 'two callbacks logged');
    my $row = tx_row($t);
    is_deeply({ map { $_ => $row->{$_} } qw(status decision) }, { status => 'PROCESSED', decision => 'PASSED' },
              'stored status and decision');
    no_violations('end to end');
}];

push @subtests, ['second intake of a user: PUT /accounts/<id>, same account, fresh references' => sub {
    JumioTest::fake_reset();
    my $user = new_user('again');
    my $t1 = start_tx(user => $user, name => 'first intake');
    my $acc1 = account_row($user) || {};
    my $t2 = start_tx(user => $user, name => 'second intake');
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
    is(tx_row($t2)->{account_id}, tx_row($t1)->{account_id}, 'same account id stored on the transaction');
    my @acc = rows('SELECT * FROM jumio_accounts WHERE user_id = ?', $user);
    is(scalar @acc, 1, 'still one account row');
    is(($acc[0] || {})->{account_id}, $acc1->{account_id}, 'same account');
    is(count_rows('SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', $user), 2, 'two transactions');
    is_deeply(poll_answer($t1, 'first transaction still pollable'),
              { done => JSON::PP::false, transactionReference => $t1->{ref}, status => 'INITIATED' }, 'first transaction answer');
    no_violations('PUT');
}];

push @subtests, ['PUT answered 404: POST creates a new account that replaces the stored one' => sub {
    JumioTest::fake_reset();
    my $user = new_user('gone');
    my $t1 = start_tx(user => $user, name => 'first intake');
    JumioTest::fake_control('account_update', { status => 404, content_type => 'application/json',
                                                body => '{"title":"Not Found","status":404}', times => 1 });
    my $t2 = start_tx(user => $user, name => 'intake after account deletion');
    is_deeply(call_names(@{ $t2->{calls} }),
              ["PUT /fake/account/api/v1/accounts/$t1->{account}", 'POST /fake/account/api/v1/accounts'],
              'PUT, then POST');
    is(($t2->{calls}[0] || {})->{answer_status}, 404, 'PUT got 404');
    is(($t2->{calls}[1] || {})->{answer_status}, 200, 'POST got 200');
    my ($a1, $a2) = map { tx_row($_)->{account_id} } $t1, $t2;    # stored on the transactions
    like($a2 // '', $UUID_RE, 'new account id');
    isnt($a2, $a1, 'a different account');
    my @acc = rows('SELECT * FROM jumio_accounts WHERE user_id = ?', $user);
    is(scalar @acc, 1, 'one account row');
    is(($acc[0] || {})->{account_id}, $a2, 'stored account replaced');
    is(JumioTest::fake_workflow($t2->{ref})->{account_id}, $a2, "stored account = the fake's");
    my $t3 = start_tx(user => $user, name => 'third intake');
    is_deeply(call_names(@{ $t3->{calls} }), ["PUT /fake/account/api/v1/accounts/$t2->{account}"], 'next intake: PUT to the new account');
}];

push @subtests, ['PUT answered 500: 502 upstream_error, no POST, nothing changed' => sub {
    JumioTest::fake_reset();
    my $user = new_user('put500');
    my $t1 = start_tx(user => $user, name => 'first intake');
    my $acc = account_row($user);
    JumioTest::fake_control('account_update', { status => 500, body => 'down', content_type => 'text/plain', times => 1 });
    my $res = request(POST => '/jumio/intake', user => $user);
    is_error($res, 502, 'upstream_error', 'PUT 500');
    is(scalar(fake_requests('account_create')), 1, 'no POST after a PUT 500');
    is_deeply(account_row($user), $acc, 'account row unchanged');
    is(count_rows('SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', $user), 1, 'no new transaction');
}];

push @subtests, ['workflow 9 after a workflow 3 enrolment sends the stored ID credential id' => sub {
    JumioTest::fake_reset();
    my $user = new_user('auth');
    my $t1 = start_tx(user => $user, name => 'enrolment (workflow 3)');
    my $row = account_row($user) || {};
    my ($id_cred) = map { $_->{id} } grep { $_->{category} eq 'ID' }
                    @{ (JumioTest::fake_workflow($t1->{ref}) || {})->{credentials} || [] };
    like($id_cred // '', $UUID_RE, 'Jumio issued an ID credential for the enrolment');
    is(cred_id($row, 'ID'), $id_cred, 'enrolment stored the ID credential id');
    for my $i (1, 2) {
        my $t = start_tx(user => $user, path => '/jumio/intake-auth', name => "authentication $i (workflow 9)");
        is_deeply(call_names(@{ $t->{calls} }), ["PUT /fake/account/api/v1/accounts/$t1->{account}"], "authentication $i: PUT to the account");
        my $c = $t->{calls}[-1] || {};
        my $b = $c->{json} || {};
        like($c->{body} // '', qr/"key"\s*:\s*9\s*[,}]/, "authentication $i: key is the JSON number 9");
        is_deeply($b->{workflowDefinition}, { key => 9, credentials => [ { id => $id_cred, category => 'ID' }, { category => 'FACEMAP' } ] },
                  "authentication $i: workflowDefinition as the transition guide shows");
        like($b->{customerInternalReference} // '', $UUID4_RE, "authentication $i: customerInternalReference");
        is($b->{userReference}, $user, "authentication $i: userReference");
        like($b->{callbackUrl} // '', qr/\A\Q$CB\E\?jumio_token=$CB_TOKEN_RE\z/, "authentication $i: signed callbackUrl");
        is(tx_row($t)->{workflow_key}, 9, "authentication $i: stored workflow_key 9");
        is(tx_row($t)->{status}, 'INITIATED', "authentication $i: stored INITIATED");
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
