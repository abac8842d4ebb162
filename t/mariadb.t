# MariaDB/MySQL-only behaviour (scripts/test's second pass, DBDriver mysql):
# the database goes away under the running module and comes back.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

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

plan tests => 3, need_module('mod_perl.c');

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
