# t/race.t - races and waits around the store (SQLite, extra httpds, a fake Jumio of its own):
#  1. simultaneous intakes of one new user: one Jumio account; erase deletes every account
#     Jumio made for the user (also the one a PUT 404 replaced);
#  2. erase racing a callback while another writer holds the database: nothing of the user
#     outlives an acknowledged erase;
#  3. user ids compare exactly (case, trailing space): another user's account is never used;
#  4. a slow Jumio does not hold up polls and callbacks of other users (event MPM);
#  5. a database locked by another process: 503 within JumioDBTimeout, nothing sent or stored.
# The MariaDB variants are in t/race_mariadb.t; the shared scenarios in t/lib/JumioTest/Race.pm.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;
use JumioTest::Race;

use Fcntl qw(:flock);
use File::Temp ();
use List::Util qw(max);
use LWP::UserAgent ();
use POSIX ();
use Time::HiRes qw(time sleep);

plan tests => 9, need_module('mod_perl.c');

# A fake Jumio of its own (JumioTest::Race), and its state files.
my $fake = race_fake('race-fake');
my $STATE = fake_state();

# ---- 1. one user, many intakes at once ----

my $event = node('race-event', mpm => 'event', threads => 25, workers => 25, start_servers => 1);
my $prefork = node('race-prefork', mpm => 'prefork', workers => 24, start_servers => 21);

subtest '20 simultaneous intakes of one new user (event MPM, 25 threads): one Jumio account, erase deletes all' => sub {
    one_user_burst('event', $event, ($event->base) x 20);
};

subtest '20 simultaneous intakes of one new user (prefork, 21+ children): one Jumio account, erase deletes all' => sub {
    one_user_burst('prefork', $prefork, ($prefork->base) x 20);
};

subtest 'account forgotten by Jumio (PUT 404, new account): erase deletes the old and the new account' => sub {
    fake_reset();
    my $user = new_user('forgot');
    my $t1 = start_tx(user => $user, base => $event->base, calls => 1, name => 'first intake');
    $STATE->locked(LOCK_EX, sub { $STATE->delete_account($t1->{account}) });
    my $t2 = start_tx(user => $user, base => $event->base, calls => 2, name => 'second intake');
    is_deeply(call_names(@{ $t2->{calls} }),
              [ "PUT /fake/account/api/v1/accounts/$t1->{account}", 'POST /fake/account/api/v1/accounts' ],
              'second intake: PUT answered 404, then POST');
    isnt($t2->{account} // '', $t1->{account}, 'a new account at Jumio');
    my $er = request(DELETE => '/jumio/erase', user => $user, base => $event->base);
    is($er->code, 200, 'erase answered 200') or diag(substr($er->as_string, 0, 500));
    my $del = deleted_accounts();
    is($del->{ $t2->{account} // '' }, 200, 'DELETE of the new account (200)');
    like($del->{ $t1->{account} } // 'none', qr/\A(?:200|404)\z/, 'DELETE of the old account too (200 or 404)');
    is_deeply([ user_leftovers($event, $user, $t1->{ref}, $t2->{ref}) ], [], 'no row of the user is left');
};

# ---- 2. erase racing a callback ----

subtest 'erase racing a callback (prefork, a writer holding the database 50-100 ms): nothing outlives the erase, 30 rounds' => sub {
    my $h = node('race-cb', mpm => 'prefork', workers => 8, start_servers => 8);
    fake_reset();
    start_tx(base => $h->base, tag => 'warm', quiet => 1);    # the database exists
    my $rounds = 30;
    my ($bad, $erased, %answers, @why) = (0, 0);
    for my $round (1 .. $rounds) {
        my $user = new_user('cbrace');
        my $t = start_tx(user => $user, base => $h->base, quiet => 1);
        unless ($t->{ref} && $t->{token}) {
            $bad++;
            push @why, "round $round: intake failed: " . $t->{res}->code;
            next;
        }
        my $body = { workflowExecution => { id => $t->{ref}, status => 'ACQUIRED', definitionKey => '3' },
                     account => { id => $t->{account} }, userReference => $user,
                     callbackSentAt => "race-$round" };
        my $dbh = $h->dbh;
        $dbh->do('BEGIN IMMEDIATE');
        my ($e, $c) = while_locked($dbh, 0.05 + rand(0.05),
            sub { request(DELETE => '/jumio/erase', user => $user, base => $h->base)->code },
            sub { callback($body, query => "jumio_token=$t->{token}", base => $h->base)->code });
        $dbh->disconnect;
        $answers{"erase $e, callback $c"}++;
        my @left = $e eq '200' ? user_leftovers($h, $user, $t->{ref}) : ();
        $erased++ if $e eq '200';
        if (@left || $c !~ /\A(?:200|403|503)\z/) {
            $bad++;
            push @why, "round $round: erase $e, callback $c" . join('', map { "\n    left: $_" } @left);
        }
    }
    diag('answers: ' . join(', ', map { "$answers{$_}x ($_)" } sort keys %answers));
    is($erased, $rounds, "every erase answered 200 ($rounds rounds)");
    is($bad, 0, "rounds where a row outlived the erase or the callback got a 5xx other than 503: 0 of $rounds")
        or diag(join "\n", @why);
};

# Runs @jobs (code refs, each giving one line) in forked processes at once while $dbh holds
# its write transaction; rolls it back after $hold seconds.  The lines, in order.
sub while_locked {
    my ($dbh, $hold, @jobs) = @_;
    my (@pipes, @pids);
    for my $job (@jobs) {
        pipe(my $r, my $w) or die "pipe: $!";
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            close $r;
            my $line = eval { $job->() } // 'died';
            print {$w} $line;
            close $w;
            POSIX::_exit(0);
        }
        close $w;
        push @pipes, $r;
        push @pids, $pid;
    }
    sleep $hold;
    $dbh->do('ROLLBACK');
    my @lines = map { my $r = $_; local $/; my $l = <$r>; close $r; $l // 'none' } @pipes;
    waitpid($_, 0) for @pids;
    return @lines;
}

# ---- 3. ids compare exactly ----

subtest 'ids compare exactly: ALICE/alice, "bob " / bob, erase by CAROL, workflow 9 by DAVE are other users (SQLite)' => sub {
    case_variants($prefork);
};

# ---- 4. a slow Jumio holds up nobody else ----

for my $dbd_max (4, 10) {
    subtest "10 intakes waiting 2.5 s on Jumio: polls and callbacks of others stay fast (event MPM, DBDMax $dbd_max)" => sub {
        my $h = node("race-slow$dbd_max", mpm => 'event', threads => 25, workers => 25, start_servers => 1,
                     timeout => '10 1', conf => "DBDMax $dbd_max");
        fake_reset();
        my @tx = map { start_tx(base => $h->base, tag => 'other', quiet => 1) } 1 .. 20;
        is(scalar(grep { $_->{ref} && $_->{token} } @tx), 20, '20 transactions of other users');
        # 20 polls and 10 callbacks from 6 senders; [kind, code, seconds, end time] each
        my $measure = sub {
            my ($tag) = @_;
            return map { @$_ } in_parallel_results(6, sub {
                my ($s) = @_;
                my @out;
                for (my $i = $s; $i < 30; $i += 6) {
                    my $t0 = time;
                    my $res = $i < 20 ? poll_tx($tx[$i])
                                      : send_callback($tx[$i - 20], 'ACQUIRED', marker => "$tag-$i");
                    push @out, [ $i < 20 ? 'poll' : 'callback', $res->code, time - $t0, time ];
                }
                return @out;
            });
        };
        my @baseline = $measure->('base');
        my @users = map { new_user('slow') } 1 .. 10;
        my $before = scalar fake_requests('account_create');
        fake_control('account_create', { delay => 2.5 });
        my $results = File::Temp->new;
        my $bg = fork // die "fork: $!";
        if (!$bg) {
            my @r = in_parallel_results(10, sub {
                my $res = request(POST => '/jumio/intake', user => $users[ $_[0] ], base => $h->base);
                return ($res->code, time);
            });
            open(my $fh, '>', $results->filename) or POSIX::_exit(1);
            print {$fh} $JSON->encode(\@r);
            close $fh;
            POSIX::_exit(0);
        }
        # all 10 in Jumio's hands (the fake records a request before its delay); not longer than
        # 1.5 s: the measurement must fall into the 2.5 s they wait
        wait_until(1.5, sub { fake_requests('account_create') - $before >= 10 });
        my $reached = fake_requests('account_create') - $before;
        my @slow = $measure->('slow');
        waitpid($bg, 0);
        fake_control('account_create');
        my $r = do { local (@ARGV, $/) = ($results->filename); eval { $JSON->decode(<>) } } || [];
        is_deeply([ map { $_->[0] } @$r ], [ (200) x 10 ], 'the 10 slow intakes answered 200');
        my $first_done = List::Util::min(map { $_->[1] } @$r) // 0;
        my $stats = sub {
            my ($kind, @a) = @_;
            my @s = sort { $a <=> $b } map { $_->[2] } grep { $_->[0] eq $kind } @a;
            return sprintf '%s p50 %.0f ms max %.0f ms', $kind, 1000 * ($s[ $#s / 2 ] // 0), 1000 * ($s[-1] // 0);
        };
        diag("DBDMax $dbd_max: $reached of 10 intakes reached Jumio before the measurement");
        diag("DBDMax $dbd_max baseline: " . join('; ', map { $stats->($_, @baseline) } qw(poll callback)));
        diag("DBDMax $dbd_max slow Jumio: " . join('; ', map { $stats->($_, @slow) } qw(poll callback)));
        is_deeply([ map { "$_->[0] $_->[1]" } grep { $_->[1] != 200 } @baseline, @slow ], [],
                  'every poll and callback answered 200');
        my $max = max(map { $_->[2] } @slow) // 99;
        cmp_ok($max, '<', 1.0, sprintf('slowest poll/callback while Jumio is slow: %.0f ms (< 1 s)', 1000 * $max));
        my $last = max(map { $_->[3] } @slow) // 0;
        cmp_ok($last, '<', $first_done, 'all were answered while the intakes still waited on Jumio');
        $h->stop;
    };
}

# ---- 5. a database locked by another process ----

my $lk = node('race-lock', conf => 'JumioDBTimeout 2', workers => 8, start_servers => 4);

subtest 'SQLite write lock held by another process (JumioDBTimeout 2): intake and callback 503 within 3 s, poll 200' => sub {
    fake_reset();
    my $t = start_tx(base => $lk->base, tag => 'locked');
    my $ua = LWP::UserAgent->new(timeout => 8, keep_alive => 0, max_redirect => 0);
    my $user = new_user('lockednew');
    my $dbh = $lk->dbh;
    $dbh->do('BEGIN IMMEDIATE');
    my ($res, $secs) = timed(sub { request(POST => '/jumio/intake', user => $user, base => $lk->base, ua => $ua) });
    is_error($res, 503, 'unavailable', 'intake of a new user');
    cmp_ok($secs, '<', 3, sprintf('intake answered in %.1f s (< 3 s)', $secs));
    is(scalar(fake_user_calls($user)), 0, 'intake: nothing sent to Jumio');
    ($res, $secs) = timed(sub { send_callback($t, 'ACQUIRED', marker => 'locked-cb', ua => $ua) });
    is_error($res, 503, 'unavailable', 'callback');
    cmp_ok($secs, '<', 3, sprintf('callback answered in %.1f s (< 3 s)', $secs));
    ($res, $secs) = timed(sub { poll_tx($t, ua => $ua) });
    is($res->code, 200, 'poll answered 200 (WAL readers are not blocked)');
    cmp_ok($secs, '<', 3, sprintf('poll answered in %.1f s (< 3 s)', $secs));
    $dbh->do('ROLLBACK');
    $dbh->disconnect;
    sleep 1.5;    # whatever the module still had in hand lands now
    is(scalar(user_rows($lk, 'jumio_transactions', $user)), 0, 'intake: nothing stored');
    is(scalar(fake_user_calls($user)), 0, 'intake: still nothing sent to Jumio');
    is(count_rows($lk, 'SELECT id FROM jumio_callbacks WHERE body LIKE ?', '%locked-cb%'), 0,
       'callback: nothing stored');
};

subtest 'SQLite locked exclusively (readers blocked too, JumioDBTimeout 2): poll 503 within 3 s' => sub {
    fake_reset();
    my $t = start_tx(base => $lk->base, tag => 'exclusive');
    # a connection in EXCLUSIVE locking mode needs the file to itself: the module's are closed
    $lk->stop;
    my $dbh = $lk->dbh;
    $dbh->do('PRAGMA locking_mode = EXCLUSIVE');
    $dbh->do('BEGIN IMMEDIATE');
    $dbh->do('UPDATE jumio_transactions SET updated_at = updated_at WHERE workflow_id = ?', undef, $t->{ref});
    $dbh->do('COMMIT');    # the exclusive lock stays until the connection closes
    $lk->start;
    my $ua = LWP::UserAgent->new(timeout => 8, keep_alive => 0, max_redirect => 0);
    my ($res, $secs) = timed(sub { poll_tx($t, ua => $ua) });
    is_error($res, 503, 'unavailable', 'poll');
    cmp_ok($secs, '<', 3, sprintf('poll answered in %.1f s (< 3 s)', $secs));
    $dbh->disconnect;
    is(poll_tx($t, ua => $ua)->code, 200, 'poll answered 200 once the lock is gone');
    is_deeply([ $lk->crashes ], [], 'no crash in its error_log');
};

$lk->stop;
$event->stop;
$prefork->stop;
$fake->stop;
