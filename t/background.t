# t/background.t - background work with mod_watchdog (issue 4): an extra httpd with
# JumioBackgroundInterval 1 and JumioRetrievalSchedule 1 2 3 fetches details of PROCESSED
# transactions and asks the Status API on schedule when no callback comes, without any poll;
# several nodes on one database do each piece of work once (row claims).
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

use JSON::PP ();
use Time::HiRes ();

# With MariaDB (scripts/test's second pass) the extra servers share the suite's database.
my @DB = db_is_mysql() ? (db => 'main') : ();
my $h;

# Intake on the background server, optionally with the fake's workflow set to $status.
sub bg_tx {
    my ($tag, %o) = @_;
    my $t = start_tx(base => $o{h} // $h->base, tag => $tag);
    JumioTest::fake_set_workflow($t->{ref}, status => $o{status}) if $o{status};
    return $t;
}

my @subtests;

push @subtests, ['callback never sent: the Status API is asked and details are stored without a poll' => sub {
    JumioTest::fake_reset();
    my $t = bg_tx('nocb', status => 'PROCESSED');
    my $row = wait_until(8, sub { my $r = tx_row($t, $h); $r->{details} ? $r : undef }) || {};
    is($row->{status}, 'PROCESSED', 'status PROCESSED from the Status API');
    ok(defined $row->{details}, 'details stored by the background task');
    is($row->{decision}, 'PASSED', 'decision stored');
    ok($row->{status_checks} >= 1, 'a status check was counted');
    is(scalar(tx_calls($t, 'status')), 1, 'one Status API call');
    is(scalar(tx_calls($t, 'details')), 1, 'one details call');
    my @det = tx_calls($t, 'details');
    is_deeply(($det[0] || {})->{violations}, [], 'details call: valid request');

    my $res = poll_tx($t);
    is($res->code, 200, 'poll: 200');
    my $d = json_answer($res, 'poll') || {};
    ok($d->{done} && JSON::PP::is_bool($d->{done}), 'poll: done true');
    is($d->{status}, 'PROCESSED', 'poll: PROCESSED');
    is($d->{decision}, 'PASSED', 'poll: decision PASSED');
    is(ref $d->{data}, 'HASH', 'poll: decision data');
    sleep 2;
    is(scalar(tx_calls($t, 'details')), 1, 'no new details request after the poll');
    is(scalar(tx_calls($t, 'status')), 1, 'no new Status API call after the result is stored');
}];

push @subtests, ['callback PROCESSED: details fetched by the background task, exactly once' => sub {
    JumioTest::fake_reset();
    my $t = bg_tx('cb', status => 'PROCESSED');
    my $cb = send_callback($t, 'PROCESSED');
    is($cb->code, 200, 'callback PROCESSED: 200');
    my $row = wait_until(8, sub { my $r = tx_row($t, $h); $r->{details} ? $r : undef }) || {};
    ok(defined $row->{details}, 'details stored without a poll');
    is($row->{decision}, 'PASSED', 'decision PASSED');
    sleep 3;
    is(scalar(tx_calls($t, 'details')), 1, 'exactly one details request');
    ok(scalar(tx_calls($t, 'status')) <= 1, 'at most one Status API call (only if it ran before the callback)');
    my $d = json_of(poll_tx($t)) || {};
    ok($d->{done}, 'poll: done');
    is(scalar(tx_calls($t, 'details')), 1, 'still one details request after the poll');
}];

push @subtests, ['no result yet: the Status API is asked once per schedule step, 3 steps at most' => sub {
    JumioTest::fake_reset();
    my $t = bg_tx('sched', status => 'ACQUIRED');
    wait_until(10, sub { tx_calls($t, 'status') >= 3 });
    sleep 3;
    my @calls = tx_calls($t, 'status');
    is(scalar(@calls), 3, 'exactly 3 Status API calls (JumioRetrievalSchedule 1 2 3)');
    is_deeply([map { @{ $_->{violations} || [] } } @calls], [], 'valid requests');
    my $row = tx_row($t, $h);
    is($row->{status_checks}, 3, 'status_checks 3');
    is($row->{status}, 'ACQUIRED', "status moved forward to the Status API's ACQUIRED");
    ok(!defined $row->{details}, 'no details for a non-final transaction');
    is(scalar(tx_calls($t, 'details')), 0, 'no details request');
    my $gaps = join ' ', map { sprintf '%.1f', $calls[$_]{time} - $calls[$_ - 1]{time} } 1 .. $#calls;
    ok((!grep { $_ < 0.5 } split ' ', $gaps), "calls spread over the schedule (gaps: $gaps s)");
    my $d = json_of(poll_tx($t)) || {};
    is_deeply($d, { done => JSON::PP::false, transactionReference => $t->{ref}, status => 'ACQUIRED' },
              'poll: not done, ACQUIRED');
    is(scalar(tx_calls($t, 'status')), 3, 'the poll does not ask beyond the schedule');
}];

push @subtests, ['SESSION_EXPIRED from the Status API: done, decision and data null, no details' => sub {
    JumioTest::fake_reset();
    my $t = bg_tx('expired', status => 'SESSION_EXPIRED');
    my $row = wait_until(8, sub { my $r = tx_row($t, $h); ($r->{status} // '') eq 'SESSION_EXPIRED' ? $r : undef }) || {};
    is($row->{status}, 'SESSION_EXPIRED', 'status SESSION_EXPIRED stored');
    my $res = poll_tx($t);
    is($res->code, 200, 'poll: 200');
    is_deeply(json_answer($res, 'poll'),
              { done => JSON::PP::true, transactionReference => $t->{ref}, status => 'SESSION_EXPIRED',
                decision => undef, data => undef }, 'poll: done, null decision and data');
    sleep 2;
    is(scalar(tx_calls($t, 'details')), 0, 'no details request for an expired transaction');
    is(scalar(tx_calls($t, 'status')), 1, 'no further Status API call once final');
}];

push @subtests, ['two nodes on one database: each piece of work done once' => sub {
    JumioTest::fake_reset();
    my $h2 = extra_httpd(name => 'bg2', background => 1, schedule => [1, 2, 3],
                         ($h->db_path ? (db => $h->db_path) : @DB));
    my @tx = map { bg_tx("two$_", status => 'PROCESSED', h => ($_ % 2 ? $h2->base : $h->base)) } 1 .. 6;
    # callbacks to the other node for half of them
    is(send_callback($tx[$_], 'PROCESSED', base => $h2->base)->code, 200, "callback $_ on node 2")
        for grep { $_ % 2 == 0 } 0 .. $#tx;
    wait_until(12, sub { !grep { !tx_row($_, $h)->{details} } @tx });
    sleep 3;
    for my $i (0 .. $#tx) {
        ok(defined tx_row($tx[$i], $h)->{details}, "tx $i: details stored");
        is(scalar(tx_calls($tx[$i], 'details')), 1, "tx $i: one details request");
        ok(scalar(tx_calls($tx[$i], 'status')) <= 1, "tx $i: at most one Status API call");
    }
    my $st2 = $h2->error_log_text;
    ok($st2 !~ /exit signal|Segmentation fault/, 'node 2: no crash');
    $h2->stop;
}];

push @subtests, ['transactions whose details keep failing do not starve newer ones' => sub {
    JumioTest::fake_reset();
    # 21 PROCESSED transactions whose details Jumio no longer has (404: deleted at Jumio)
    my @old = map { bg_tx("gone$_", status => 'PROCESSED') } 1 .. 21;
    is(send_callback($_, 'PROCESSED')->code, 200, 'old callback') for @old;
    JumioTest::fake_reset();    # the fake forgets the old workflows: their details are 404
    my $t = bg_tx('fresh', status => 'PROCESSED');
    is(send_callback($t, 'PROCESSED')->code, 200, 'new callback PROCESSED');
    my $row = wait_until(10, sub { my $r = tx_row($t, $h); $r->{details} ? $r : undef }) || {};
    ok(defined $row->{details}, 'the new transaction gets its details without a poll')
        or diag(scalar(JumioTest::fake_requests('details')) . ' details requests in 10 s, '
                . scalar(tx_calls($t, 'details')) . ' for the new transaction');
    my $old_calls = grep { ($_->{answer_status} // 0) == 404 } JumioTest::fake_requests('details');
    ok($old_calls <= 3 * 21 * 2, "failing details are not asked for every round ($old_calls requests in ~10 s)");
}];

push @subtests, ['a backlog of due status checks does not hold up a fresh result' => sub {
    JumioTest::fake_reset();
    # 300 older transactions whose status checks are all due (a node back after a pause, or a
    # database shared with other nodes): 15 rounds of 20 if they were served oldest first
    my $now = time;
    my @backlog = map { sprintf 'backlog-%04d-0000-4000-8000-%012d', $_, $$ } 1 .. 300;
    for my $id (@backlog) {
        rows($h, 'INSERT INTO jumio_transactions (workflow_id, account_id, user_id, workflow_key, cir, '
                 . 'status, status_rank, status_checks, next_check_at, created_at, updated_at) '
                 . "VALUES (?, ?, 'backlog-user', 3, ?, 'INITIATED', 0, 0, ?, ?, ?)",
             $id, '00000000-0000-4000-8000-000000000001', $id, $now - 60, $now - 600, $now - 600);
    }
    my $t = bg_tx('after-backlog', status => 'PROCESSED');
    is(send_callback($t, 'PROCESSED')->code, 200, 'callback PROCESSED');
    my $t0 = Time::HiRes::time();
    my $row = wait_until(10, sub { my $r = tx_row($t, $h); $r->{details} ? $r : undef }) || {};
    ok(defined $row->{details}, 'details stored by the background task');
    cmp_ok(Time::HiRes::time() - $t0, '<', 5, 'within a few rounds, not after the 15 rounds of the backlog');
    rows($h, "DELETE FROM jumio_transactions WHERE user_id = 'backlog-user'");
}];

push @subtests, ['background server: no crash, no secrets in its error log' => sub {
    my $log = $h->error_log_text;
    ok(length $log, 'error log written');
    is_deeply([$h->crashes], [], 'no child crash');
    unlike($log, qr/test-secret-value/, 'client secret not logged');
    like($log, qr/resuming normal operations/, 'server started normally');
}];

plan tests => scalar(@subtests), need_module('mod_perl.c');
$h = extra_httpd(name => 'bg', background => 1, schedule => [1, 2, 3], @DB);
subtest $_->[0] => $_->[1] for @subtests;
$h->stop;
