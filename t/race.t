# t/race.t - races and waits around the store (SQLite, extra httpds, a fake Jumio of its own):
#  1. simultaneous intakes of one new user: one Jumio account; erase deletes every account
#     Jumio made for the user (also the one a PUT 404 replaced);
#  2. erase racing a callback while another writer holds the database: nothing of the user
#     outlives an acknowledged erase;
#  3. user ids compare exactly (case, trailing space): another user's account is never used;
#  4. a slow Jumio does not hold up polls and callbacks of other users (event MPM);
#  5. a database locked by another process: 503 within JumioDBTimeout, nothing sent or stored.
# The MariaDB variants are in t/race_mariadb.t.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;
use JumioTest::Httpd ();
use FakeJumio::State ();

use Fcntl qw(:flock);
use File::Temp ();
use List::Util qw(max);
use LWP::UserAgent ();
use POSIX ();
use Time::HiRes qw(time sleep);

plan tests => 9, need_module('mod_perl.c');

# A fake Jumio of its own with enough workers for 20 delayed account calls at once (the test
# server's has 12); the helpers (fake_requests, fake_control, start_tx ...) read its state.
my $fake = JumioTest::Httpd->new(name => 'race-fake', logs => Apache::Test::vars('t_logs'),
                                 t_dir => Apache::Test::vars('serverroot'), with_fake => 1,
                                 no_jumio => 1, workers => 48, start_servers => 40,
                                 loglevel => 'warn',
                                 # idle keep-alive connections of the nodes' children would
                                 # each hold one of its (prefork) children for 5 s
                                 conf => 'KeepAliveTimeout 1');
$ENV{JUMIO_FAKE_DIR} = $fake->fake_dir;
my $STATE = FakeJumio::State->new($fake->fake_dir);

# The locations the extra httpds lack: erase, and authentication (workflow 9).
my $MORE = join "\n", '<Location /jumio/erase>', '    SetHandler jumio-erase', '</Location>',
    '<Location /jumio/intake-auth>', '    SetHandler jumio-intake', '    JumioWorkflowKey 9',
    '</Location>';

# An extra httpd on this file's fake, with erase and workflow 9; conf => more directives.
sub node {
    my ($name, %o) = @_;
    my $conf = join "\n", $MORE, grep { defined } delete $o{conf};
    return extra_httpd(name => $name, fake => $fake->url('/fake'), loglevel => 'notice',
                       conf => $conf, %o);
}

# (what $code returns, seconds it took)
sub timed {
    my ($code) = @_;
    my $t0 = time;
    my $v = $code->();
    return ($v, time - $t0);
}

# Intakes of one new user, one to each of @bases, all at once, while Jumio answers account
# calls after 0.5 s; then erase.  Expected: all 200, one account at Jumio (one POST, the rest
# PUTs on it), one account row, every transaction on that account; the erase deletes every
# account Jumio made for the user and leaves no row of the user.  $h: whose database to read.
sub one_user_burst {
    my ($name, $h, @bases) = @_;
    my $n = @bases;
    fake_reset();
    my $user = new_user('burst');
    fake_control($_, { delay => 0.5 }) for qw(account_create account_update);
    my @r = in_parallel_results($n, sub {
        my $res = request(POST => '/jumio/intake', user => $user, base => $bases[ $_[0] ]);
        return ($res->code, (json_of($res) || {})->{transactionReference} // '',
                substr($res->content, 0, 200));
    });
    fake_control($_) for qw(account_create account_update);
    is_deeply([ map { "$_->[0] $_->[2]" } grep { $_->[0] != 200 } @r ], [],
              "$name: all $n intakes answered 200");
    my @creates  = fake_user_calls($user, 'account_create');
    my @updates  = fake_user_calls($user, 'account_update');
    my @accounts = fake_account_ids($user);
    is(scalar @creates, 1, "$name: Jumio saw exactly one account_create (POST /accounts) for the user")
        or diag(scalar(@creates) . " account POSTs, accounts made at Jumio: @accounts");
    is(scalar @updates, $n - 1, "$name: the other " . ($n - 1) . " intakes were PUTs");
    my %put_to = map { ($_->{path} // '') =~ m{/accounts/([^/]+)\z} ? ($1 => 1) : () } @updates;
    is_deeply([ sort keys %put_to ], [ grep { $put_to{$_} } @accounts ],
              "$name: the PUTs went to accounts Jumio made for the user");
    my @tx = user_rows($h, 'jumio_transactions', $user);
    is(scalar @tx, $n, "$name: $n transactions stored");
    my %tx_acc = map { $_->{account_id} => 1 } @tx;
    is(scalar keys %tx_acc, 1, "$name: all transactions carry the same account_id")
        or diag(scalar(keys %tx_acc) . ' different account ids on the transactions');
    is(scalar(user_rows($h, 'jumio_accounts', $user)), 1, "$name: one jumio_accounts row");
    my @refs = grep { length } map({ $_->[1] } @r), map { $_->{workflow_id} } @tx;
    my $er = request(DELETE => '/jumio/erase', user => $user, base => $bases[0]);
    is($er->code, 200, "$name: erase answered 200") or diag(substr($er->as_string, 0, 500));
    my $del = deleted_accounts();
    is_deeply([ grep { !$del->{$_} } @accounts ], [],
              "$name: erase sent a DELETE for every account Jumio made for the user (" . @accounts . ')');
    is_deeply([ user_leftovers($h, $user, @refs) ], [], "$name: no row of the user is left");
    return;
}

# Case and trailing-space variants of enrolled users' ids are other users (any driver).
sub case_variants {
    my ($h) = @_;
    my $base = $h->base;
    fake_reset();
    my %u = map { $_ => new_user($_) } qw(alice bob carol dave);
    my %t = map { $_ => start_tx(user => $u{$_}, base => $base, calls => 1, name => "enrolment of $u{$_}") }
            sort keys %u;
    my $acc = sub { [ map { { user_id => $_->{user_id}, account_id => $_->{account_id} } }
                      user_rows($h, 'jumio_accounts', $_[0]) ] };
    my %before = map { $_ => $acc->($u{$_}) } keys %u;
    for my $v ([ alice => uc $u{alice} ], [ bob => "$u{bob} " ]) {
        my ($orig, $id) = @$v;
        my $t = start_tx(user => $id, base => $base, name => "intake by '$id'");
        is_deeply(call_names(@{ $t->{calls} }), ['POST /fake/account/api/v1/accounts'],
                  "'$id': a new account (POST), no PUT on $u{$orig}'s");
        is((($t->{calls}[0] || {})->{json} || {})->{userReference}, $id, "'$id': userReference exactly the id");
        isnt($t->{account} // '', $t{$orig}{account}, "'$id': not $u{$orig}'s Jumio account");
        is(tx_row($t, $h)->{user_id}, $id, "'$id': the transaction stored for exactly that id");
        is_deeply($acc->($u{$orig}), $before{$orig}, "'$id': $u{$orig}'s account row unchanged");
        is_deeply([ map { $_->{account_id} } @{ $acc->($id) } ], [ $t->{account} ],
                  "'$id': an account row of its own");
    }
    my $carol = uc $u{carol};
    my $dels = scalar fake_requests('delete_account');
    is_error(request(DELETE => '/jumio/erase', user => $carol, base => $base), 404, 'not_found',
             "erase by '$carol'");
    is(scalar fake_requests('delete_account'), $dels, "erase by '$carol': no Deletion API call");
    is_deeply($acc->($u{carol}), $before{carol}, "erase by '$carol': $u{carol}'s account row kept");
    is(scalar(user_rows($h, 'jumio_transactions', $u{carol})), 1,
       "erase by '$carol': $u{carol}'s transaction kept");
    ok($STATE->locked(LOCK_SH, sub { $STATE->account($t{carol}{account}) }),
       "erase by '$carol': $u{carol}'s account still at Jumio");
    my $dave = uc $u{dave};
    my $calls = account_calls();
    is_error(request(POST => '/jumio/intake-auth', user => $dave, base => $base), 409, 'no_enrolment',
             "workflow 9 by '$dave' (never enrolled)");
    is(account_calls() - $calls, 0, "workflow 9 by '$dave': nothing sent to Jumio");
    is(scalar(user_rows($h, 'jumio_transactions', $dave)), 0, "workflow 9 by '$dave': no transaction stored");
    is_deeply($acc->($u{dave}), $before{dave}, "workflow 9 by '$dave': $u{dave}'s account row unchanged");
    no_violations('case variants');
    return;
}

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
