# jumio-status (health, counters, Prometheus text) and jumio-erase (Deletion API + local rows).
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

plan tests => 7, need_module('mod_perl.c');

subtest 'status: JSON health with database, Jumio and counters' => sub {
    fake_reset();
    # the row counts are cached for the node for 5 s: let an earlier test's scrape age out
    sleep 6;
    my $res = request(GET => '/jumio/status');
    my $before = count_rows('SELECT workflow_id FROM jumio_transactions');
    is($res->code, 200, 'HTTP 200');
    is($res->header('Cache-Control'), 'no-store', 'no-store');
    my $j = json_of($res) || {};
    is($j->{status}, 'UP', 'status UP');
    is($j->{database}, 'UP', 'database UP');
    is_deeply($j->{jumio}, { status => 'UP' }, "Jumio's health answer");
    is($j->{counters}{transactions}, $before, 'transactions counter matches the database');
    my @health = fake_requests('health');
    is(scalar @health, 1, 'one health check request');
    is($health[0]{headers}{accept}, 'application/json', 'health check: Accept');
    is($health[0]{headers}{'user-agent'}, 'mod_jumio-test/1.0 (Example Corp)', 'health check: User-Agent');
    ok(!$health[0]{headers}{authorization}, 'health check: no credentials sent');
};

subtest 'status: Prometheus text' => sub {
    my $res = request(GET => '/jumio/status', query => 'format=prometheus');
    is($res->code, 200, 'HTTP 200');
    like($res->header('Content-Type') // '', qr{\Atext/plain}, 'text/plain');
    like($res->content, qr/^jumio_database_up 1$/m, 'jumio_database_up 1');
    like($res->content, qr/^jumio_transactions \d+$/m, 'jumio_transactions');
    like($res->content, qr/^jumio_callbacks \d+$/m, 'jumio_callbacks');
};

subtest 'status: method other than GET' => sub {
    my $res = request(POST => '/jumio/status', body => '{}');
    is_error($res, 405, 'method_not_allowed', 'POST status');
    is($res->header('Allow'), 'GET', 'Allow: GET');
};

# Jumio's health answer is cached per process and per server: a virtual host with other Jumio
# endpoints gets its own (new connections, so that children serve both hosts).
subtest 'status: each virtual host has its own Jumio health answer' => sub {
    Apache::TestRequest::module('health_other');
    my $other = 'http://' . Apache::TestRequest::hostport();
    Apache::TestRequest::module('default');
    my (%main, %other);
    for (1 .. 12) {
        $main{ (json_of(request(GET => '/jumio/status')) || {})->{status} // 'none' }++;
        $other{ (json_of(request(GET => '/jumio/status', base => $other)) || {})->{status}
                // 'none' }++;
    }
    is_deeply(\%main, { UP => 12 }, 'main server: Jumio UP every time');
    is_deeply(\%other, { DEGRADED => 12 },
              'the other host (its health check fails): DEGRADED every time, never UP');
};

subtest 'erase: account deleted at Jumio, then every local row' => sub {
    fake_reset();
    my $user = new_user('erase');
    my $t = processed_tx(user => $user);
    my ($ref, $aid) = @$t{qw(ref account)};
    ok(count_rows('SELECT id FROM jumio_callbacks WHERE workflow_id = ?', $ref) >= 1, 'callback logged');
    my $res = request(DELETE => '/jumio/erase', token => jwt(sub => $user));
    is($res->code, 200, 'HTTP 200') or diag($res->as_string);
    is_deeply(json_of($res), { erased => JSON::PP::true(), transactions => 1 }, 'answer');
    my @del = fake_requests('delete_account');
    is(scalar @del, 1, 'one Deletion API call');
    is($del[0]{method}, 'DELETE', 'DELETE');
    is($del[0]{path}, "/fake/retrieval/api/v1/accounts/$aid", 'account path');
    like($del[0]{headers}{authorization} // '', qr/\ABearer /, 'Bearer token');
    is_deeply($del[0]{violations}, [], 'no violations');
    is(count_rows('SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', $user), 0, 'transactions gone');
    is(count_rows('SELECT user_id FROM jumio_accounts WHERE user_id = ?', $user), 0, 'account gone');
    is(count_rows('SELECT id FROM jumio_callbacks WHERE workflow_id = ?', $ref), 0, 'callbacks gone');
    my $again = request(DELETE => '/jumio/erase', token => jwt(sub => $user));
    is_error($again, 404, 'not_found', 'second erase');
};

subtest 'erase: Jumio failure keeps every local row' => sub {
    fake_reset();
    my $user = new_user('erasefail');
    processed_tx(user => $user);
    fake_control('delete_account', { status => 500, body => 'oops' });
    my $res = request(DELETE => '/jumio/erase', token => jwt(sub => $user));
    is_error($res, 502, 'upstream_error', 'Deletion API 500');
    is(count_rows('SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', $user), 1, 'transaction kept');
    is(count_rows('SELECT user_id FROM jumio_accounts WHERE user_id = ?', $user), 1, 'account kept');
    fake_control('delete_account');
};

subtest 'erase: errors' => sub {
    fake_reset();
    is_error(request(DELETE => '/jumio/erase', token => undef), 401, 'invalid_token', 'no token');
    is(request(DELETE => '/jumio/erase', token => undef)->header('WWW-Authenticate'),
       'Bearer error="invalid_token"', 'WWW-Authenticate');
    my $get = request(GET => '/jumio/erase', token => jwt(sub => new_user('x')));
    is_error($get, 405, 'method_not_allowed', 'GET erase');
    is($get->header('Allow'), 'DELETE', 'Allow: DELETE');
    is_error(request(DELETE => '/jumio/erase', token => jwt(sub => new_user('nobody'))), 404,
             'not_found', 'user without anything stored');
    is(scalar(fake_requests('delete_account')), 0, 'nothing sent to Jumio');
};
