# t/graceful.pl - load and graceful restarts (issue 4): 1,000+ callbacks and polls (and
# some intakes) run concurrently against an extra httpd (background work on) while it is
# restarted gracefully twice (apache2 -k graceful, what `apachectl graceful` does).  Then:
# every acknowledged (200) callback is in jumio_callbacks exactly once, every acknowledged
# intake has its transaction row, the server produced no 5xx, no child crashed, the parent
# leaked no file descriptors, and the background task still works after the restarts.
#
# Run by t/graceful.t when JUMIO_LOAD=1 (scripts/test sets it for the SQLite pass):
#   JUMIO_LOAD=1 perl t/TEST.PL t/graceful.t
# JUMIO_LOAD_SECONDS (default 12) and JUMIO_LOAD_CLIENTS (default 8) size the run.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

use POSIX ();
use Time::HiRes ();

plan skip_all => 'load test: set JUMIO_LOAD=1 to run it' unless $ENV{JUMIO_LOAD};
plan tests => 17, need_module('mod_perl.c');

my $SECONDS = $ENV{JUMIO_LOAD_SECONDS} || 12;
my $CLIENTS = $ENV{JUMIO_LOAD_CLIENTS} || 8;
my @DB = db_is_mysql() ? (db => 'main') : ();

JumioTest::fake_reset();
my $h = extra_httpd(name => 'load', workers => 40, start_servers => 8, background => 1,
                    schedule => [1, 2, 3], loglevel => 'notice', @DB);
my $ops_dir = $h->dir . '/ops';
mkdir $ops_dir or die "$ops_dir: $!";

sub fd_count { my $pid = shift; opendir(my $d, "/proc/$pid/fd") or return -1; my $n = grep { /\A\d+\z/ } readdir $d; $n }

# ---- transactions to call back and poll
my @tx;
{
    my $ua = keep_alive_ua();
    for my $i (1 .. 40) {
        my $t = start_tx(base => $h->base, tag => "load$i", ua => $ua, quiet => 1);
        push @tx, $t if $t->{token};
    }
}
is(scalar(@tx), 40, '40 transactions to call back and poll');
JumioTest::fake_set_workflow($_->{ref}, status => 'PROCESSED') for @tx[0 .. 19];
my $parent = $h->pid;
sleep 1;
my $fds_before = fd_count($parent);

# ---- load: each client a process with a keep-alive connection, recording every answer
my $t_end = Time::HiRes::time() + $SECONDS;
my @kids;
for my $c (1 .. $CLIENTS) {
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        srand($$ ^ time);
        my $ua = keep_alive_ua();
        open(my $log, '>', "$ops_dir/$c") or POSIX::_exit(2);
        my $n = 0;
        while (Time::HiRes::time() < $t_end) {
            $n++;
            my $t = $tx[rand @tx];
            my $p = rand;
            my ($kind, $id, $res);
            if ($p < 0.55) {
                my $st = (qw(INITIATED ACQUIRED PROCESSED))[rand 3];
                ($kind, $id) = ('callback', "L$c-$n-$st");
                $res = send_callback($t, $st, marker => $id, ua => $ua);
            }
            elsif ($p < 0.985) {
                ($kind, $id) = ('poll', $t->{ref});
                $res = poll_tx($t, ua => $ua);
            }
            else {
                my $user = new_user("li$c");
                $res = request(POST => '/jumio/intake', user => $user, base => $h->base, ua => $ua);
                ($kind, $id) = ('intake', $user . '=' . ((json_of($res) || {})->{transactionReference} // '-'));
            }
            my $internal = ($res->header('Client-Warning') // '') =~ /Internal response/ ? 'client' : 'server';
            printf {$log} "%s %s %d %s\n", $kind, $id, $res->code, $internal;
        }
        close $log;
        POSIX::_exit(0);
    }
    push @kids, $pid;
}

# ---- two graceful restarts in the middle of it
my $t0 = Time::HiRes::time();
Time::HiRes::sleep($SECONDS * 0.3);
my $g1 = eval { $h->graceful; 1 };
Time::HiRes::sleep($SECONDS * 0.3);
my $g2 = eval { $h->graceful; 1 };
my $g2_done = Time::HiRes::time();
waitpid($_, 0) for @kids;
ok($g1 && $g2, 'two graceful restarts under load') or diag($@);
is($h->generations, 3, 'the server came up three times (start + 2 graceful)');

# ---- what the clients saw
my (%n, %acked, @lost_conn, @server_errors, @intakes);
for my $c (1 .. $CLIENTS) {
    open(my $fh, '<', "$ops_dir/$c") or next;
    while (<$fh>) {
        my ($kind, $id, $code, $who) = split;
        $n{$kind}++;
        if ($code == 200) { push @{ $acked{$kind} }, $id }
        elsif ($who eq 'client') { push @lost_conn, "$kind $id $code" }
        else { push @server_errors, "$kind $id $code" }
    }
    close $fh;
}
my $total = ($n{callback} // 0) + ($n{poll} // 0);
ok($total >= 1000, "1,000+ callbacks and polls ($total: $n{callback} callbacks, $n{poll} polls, "
                   . ($n{intake} // 0) . ' intakes in ' . sprintf('%.0f', Time::HiRes::time() - $t0) . ' s)');
is(scalar(@server_errors), 0, 'no error answer from the server')
    or diag(join "\n", @server_errors[0 .. ($#server_errors < 9 ? $#server_errors : 9)]);
ok(@lost_conn <= $total * 0.01, scalar(@lost_conn) . ' requests lost their connection (client side, not acknowledged)')
    or diag(join "\n", @lost_conn[0 .. ($#lost_conn < 9 ? $#lost_conn : 9)]);

# ---- every acknowledged callback is logged exactly once, every acknowledged intake stored
my %logged;
for my $r (rows($h, 'SELECT body FROM jumio_callbacks')) {
    my $m = (eval { $JSON->decode($r->{body}) } || {})->{callbackSentAt} // next;
    $logged{$m}++;
}
my @cb = @{ $acked{callback} || [] };
is(scalar(grep { !$logged{$_} } @cb), 0, scalar(@cb) . ' acknowledged callbacks, none missing in jumio_callbacks');
is(scalar(grep { $logged{$_} > 1 } @cb), 0, 'none logged twice');
my @in = @{ $acked{intake} || [] };
my @missing_in = grep {
    my ($user, $ref) = split /=/;
    !grep { ($_->{user_id} // '') eq $user } rows($h, 'SELECT user_id FROM jumio_transactions WHERE workflow_id = ?', $ref)
} @in;
is(scalar(@missing_in), 0, scalar(@in) . ' acknowledged intakes, each with its transaction row');
my %final = map { $_->{workflow_id} => $_->{status} } rows($h, 'SELECT workflow_id, status FROM jumio_transactions');
my @not_forward = grep {
    my $ref = $_->{ref};
    my @st = map { $_->{status} } rows($h, 'SELECT status FROM jumio_callbacks WHERE workflow_id = ?', $ref);
    grep({ $_ eq 'PROCESSED' } @st) && ($final{$ref} // '') ne 'PROCESSED'
} @tx;
is(scalar(@not_forward), 0, 'every transaction with a PROCESSED callback ended PROCESSED');

# ---- leaks and crashes
sleep 1;
my $fds_after = fd_count($parent);
ok($fds_after <= $fds_before + 2, "parent's open files before/after the restarts: $fds_before/$fds_after");
is($h->pid, $parent, 'the parent process survived the restarts');
my @children = $h->child_pids;
ok(@children >= 1 && @children <= 40, scalar(@children) . ' children (MaxRequestWorkers 40)');
is_deeply([$h->crashes], [], 'no child crashed');

# ---- the background task survived the restarts: it asks the Status API for the intakes
# made under load (never polled), and a result without callback or poll arrives
my %load_tx = map { (split /=/)[1] => 1 } @in;
my @bg = grep { $_->{time} > $g2_done && $_->{path} =~ m{/workflow-executions/([^/]+)/status\z} && $load_tx{$1} }
         JumioTest::fake_requests('status');
ok(scalar(@bg), scalar(@bg) . ' background Status API calls after the second graceful restart');
my $t = start_tx(base => $h->base, tag => 'after', quiet => 1);
JumioTest::fake_set_workflow($t->{ref}, status => 'PROCESSED');
# A background round (1 s here) handles at most 20 due rows (the due list of src/store/store.c),
# oldest first: the intakes made under load (3 scheduled checks each) are ahead of this one.
my $backlog = int(3 * @in / 20);
my $row = wait_until(40 + $backlog, sub { my $r = tx_row($t, $h); $r->{details} ? $r : undef }) || {};
ok(defined $row->{details}, 'after the restarts the background task fetches details without a poll')
    or diag(scalar(JumioTest::fake_requests('status')) . " status requests in all; backlog $backlog s");
$h->stop;
ok(!$h->answers, 'stopped');
