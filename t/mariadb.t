# MariaDB/MySQL-only behaviour (scripts/test's second pass, DBDriver mysql):
# the database goes away under the running module and comes back; a callback chosen as an
# InnoDB deadlock victim is run again (not answered 5xx).
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;
use POSIX ();
use Time::HiRes ();

my $DIR = $ENV{JUMIO_TEST_MARIADB_DIR};
my $PORT = $ENV{JUMIO_TEST_MARIADB_PORT};

unless (JumioTest::db_is_mysql() && $DIR && $PORT) {
    plan skip_all => 'runs in the MariaDB pass of scripts/test only';
    exit 0;
}

# The throwaway server's control script (started by scripts/test as this user).
sub mariadb {
    my ($cmd) = @_;
    my $out = `t/db/mariadb $cmd '$DIR' '$PORT' 2>&1`;
    die "t/db/mariadb $cmd failed: $out" if $?;
}

# One intake for $user; returns (response, decoded answer).
sub intake_for {
    my ($user) = @_;
    my $res = intake(token => jwt(sub => $user));
    return ($res, json_of($res) || {});
}

plan tests => 4, need_module('mod_perl.c');

my $user = "maria-$RUN";
my ($ok, $tx);

subtest 'before: the module works on MariaDB' => sub {
    fake_reset();
    ($ok, $tx) = intake_for($user);
    is($ok->code, 200, 'intake 200');
    like($tx->{transactionReference} // '', qr/\A[0-9a-f-]{36}\z/, 'transactionReference');
    is(count_rows('SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', $user), 1,
       'transaction row in MariaDB');
};

subtest 'MariaDB down: 503 unavailable, nothing sent to Jumio, no crash' => sub {
    mariadb('stop');
    my $calls = scalar(account_calls());
    my ($ri) = intake_for("$user-down");
    is_error($ri, 503, 'unavailable', 'intake');
    is(scalar(account_calls()), $calls, 'intake: nothing sent to Jumio');
    is_error(poll($tx->{transactionReference}, token => jwt(sub => $user)), 503, 'unavailable', 'poll');
    my $cb = callback({ workflowExecution => { id => $tx->{transactionReference}, status => 'ACQUIRED' },
                        account => { id => '11111111-1111-4111-8111-111111111111' } });
    is_error($cb, 503, 'unavailable', 'callback');
};

subtest 'MariaDB back: requests succeed without restarting httpd' => sub {
    mariadb('start');
    # every child holds a dead connection now: none of them may answer 503 for it
    my @codes = map { poll($tx->{transactionReference}, token => jwt(sub => $user))->code } 1 .. 30;
    is_deeply([grep { $_ != 200 } @codes], [], '30 polls right after the restart: all 200');
    my ($ri, $t2) = intake_for("$user-back");
    is($ri->code, 200, 'intake 200 after the restart') or diag($ri->as_string);
    my $p = poll($tx->{transactionReference}, token => jwt(sub => $user));
    is($p->code, 200, 'poll of the earlier transaction 200');
    is((json_of($p) || {})->{status}, 'INITIATED', 'earlier transaction intact');
    is(count_rows('SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', "$user-back"), 1,
       'new transaction stored');
    is(count_rows('SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', "$user-down"), 0,
       'nothing stored for the intake refused while down');
    my $log = do { local (@ARGV, $/) = (Apache::Test::vars('t_logs') . '/error_log'); <> } // '';
    unlike($log, qr/Segmentation fault|exit signal/, 'no child crashed');
};

# Another session holds the transaction's row and then wants the callback row the module just
# inserted: a deadlock, and InnoDB rolls back the smaller transaction, the module's (1213).
subtest 'deadlock victim: the callback is run again and answered 200' => sub {
    my $t = start_tx(tag => 'deadlock');
    my $dbh = JumioTest::db_connect();
    $dbh->begin_work;
    $dbh->do('INSERT INTO jumio_callbacks (received_at, workflow_id, status) VALUES (?, ?, ?)',
             undef, time, 'deadlock-filler', 'ACQUIRED') for 1 .. 5;
    $dbh->do('UPDATE jumio_transactions SET updated_at = updated_at + 1 WHERE workflow_id = ?',
             undef, $t->{ref});
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $r;
        print {$w} send_callback($t, 'ACQUIRED', marker => 'deadlock-victim')->code, "\n";
        close $w;
        POSIX::_exit(0);
    }
    close $w;
    Time::HiRes::sleep(0.7);            # the module has inserted its row and waits for ours
    my $locked = eval {
        $dbh->selectall_arrayref('SELECT id FROM jumio_callbacks WHERE workflow_id = ? FOR UPDATE',
                                 undef, $t->{ref});
        1;
    };
    Time::HiRes::sleep(0.3);
    $dbh->rollback;
    chomp(my $code = <$r> // '');
    waitpid($pid, 0);
    ok($locked, 'the other session got its lock (the module was the deadlock victim)')
        or diag($@);
    is($code, 200, 'callback answered 200 after its transaction was run again');
    is(count_rows('SELECT id FROM jumio_callbacks WHERE workflow_id = ?', $t->{ref}), 1,
       'the callback logged once');
    is(tx_row($t)->{status}, 'ACQUIRED', 'status ACQUIRED');
    $dbh->disconnect;
};
