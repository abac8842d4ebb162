# t/durability.t - durability (README "Failure behaviour"): duplicate, reordered and concurrent
# callbacks on different children; a locked, unwritable or fresh database (503 unavailable,
# nothing half-written, no crash); acknowledged writes surviving a hard kill of httpd.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

use Time::HiRes ();

# Writes one line per sent callback ("marker code") to a file, for the parent to read.
sub log_line {
    my ($file, $line) = @_;
    open(my $fh, '>>', $file) or die "$file: $!";
    print {$fh} "$line\n";
    close $fh;
}

sub read_lines {
    my ($file) = @_;
    open(my $fh, '<', $file) or return ();
    chomp(my @l = <$fh>);
    close $fh;
    return @l;
}

my $TMP = Apache::Test::vars('t_logs') . "/durability.$$";
my @subtests;

push @subtests, ['concurrent duplicate and reordered callbacks on several children: PROCESSED wins, each logged once' => sub {
    JumioTest::fake_reset();
    my $t = start_tx(tag => 'conc');
    JumioTest::fake_set_workflow($t->{ref}, status => 'PROCESSED');
    my $file = "$TMP.conc";
    unlink $file;
    my @statuses = qw(PROCESSED ACQUIRED INITIATED PROCESSED ACQUIRED PROCESSED);
    my @rc = in_parallel(8, sub {
        my ($i) = @_;
        my $ua = keep_alive_ua();
        my @mine = @statuses;
        push @mine, shift @mine for 1 .. $i % @mine;    # each client its own order
        for my $k (0 .. $#mine) {
            my $marker = "c$i-$k-$mine[$k]";
            my $res = send_callback($t, $mine[$k], marker => $marker, ua => $ua);
            log_line($file, "$marker " . $res->code);
        }
        return 0;
    });
    is_deeply(\@rc, [(0) x 8], '8 clients done');
    my @sent = map { [split ' '] } read_lines($file);
    is(scalar(@sent), 48, '48 callbacks sent');
    my @acked = map { $_->[0] } grep { $_->[1] == 200 } @sent;
    is(scalar(@acked), 48, 'every callback acknowledged 200')
        or diag(join ', ', map { "@$_" } grep { $_->[1] != 200 } @sent);
    my @logged = rows('SELECT id, status, body FROM jumio_callbacks WHERE workflow_id = ? ORDER BY id', $t->{ref});
    is(scalar(@logged), scalar(@acked), 'jumio_callbacks has one row per acknowledged callback');
    my %seen;
    $seen{ (eval { $JSON->decode($_->{body}) } || {})->{callbackSentAt} // '?' }++ for @logged;
    is_deeply([grep { ($seen{$_} // 0) != 1 } @acked], [], 'each acknowledged callback logged exactly once');
    my $row = tx_row($t);
    is($row->{status}, 'PROCESSED', 'final status PROCESSED');
    is($row->{status_rank}, 2, 'status_rank 2');
    my $d = json_of(poll_tx($t)) || {};
    ok($d->{done}, 'poll: done');
    is(scalar(tx_calls($t, 'details')), 1, 'details fetched once');
    unlink $file;
}];

push @subtests, ['racing final callbacks (PROCESSED vs SESSION_EXPIRED): the first committed one stays' => sub {
    JumioTest::fake_reset();
    for my $round (1 .. 3) {
        my $t = start_tx(tag => "race$round");
        my @rc = in_parallel(6, sub {
            my ($i) = @_;
            my $st = $i % 2 ? 'SESSION_EXPIRED' : 'PROCESSED';
            return send_callback($t, $st, marker => "r$round-$i")->code == 200 ? 0 : 1;
        });
        is_deeply(\@rc, [(0) x 6], "round $round: 6 callbacks acknowledged");
        my @log = rows('SELECT status FROM jumio_callbacks WHERE workflow_id = ? ORDER BY id', $t->{ref});
        is(scalar(@log), 6, "round $round: 6 logged");
        my $final = tx_row($t)->{status} // '';
        if (db_is_mysql()) {
            # InnoDB hands out AUTO_INCREMENT ids at insert time, not in commit order
            like($final, qr/\A(?:PROCESSED|SESSION_EXPIRED)\z/, "round $round: a final status ($final)");
        }
        else {
            # SQLite serialises writers: log order is commit order
            is($final, ($log[0] || {})->{status}, "round $round: the stored status is the first logged final callback's");
        }
        my $other = $final eq 'PROCESSED' ? 'SESSION_EXPIRED' : 'PROCESSED';
        is(send_callback($t, $other, marker => "r$round-late")->code, 200, "round $round: a later $other: 200");
        is(tx_row($t)->{status}, $final, "round $round: ... changes nothing");
    }
}];

push @subtests, ['database write-locked past the busy retries: 503 unavailable, nothing half-written, then recovery' => sub {
    plan skip_all => 'SQLite only' if db_is_mysql();
    JumioTest::fake_reset();
    my $t = start_tx(tag => 'lockcb');
    my $db = JumioTest::db_connect();
    is(lc(($db->selectrow_array('PRAGMA journal_mode'))[0] // ''), 'wal', 'the database is in WAL mode');
    my $user = new_user('locked');
    my $cbs = count_rows('SELECT id FROM jumio_callbacks WHERE workflow_id = ?', $t->{ref});
    $db->do('BEGIN EXCLUSIVE');
    my ($s_in, $ri) = (Time::HiRes::time(), request(POST => '/jumio/intake', user => $user));
    $s_in = Time::HiRes::time() - $s_in;
    my $rc = send_callback($t, 'ACQUIRED', marker => 'while-locked');
    my $rp = poll_tx($t);
    $db->do('ROLLBACK');
    is_error($ri, 503, 'unavailable', 'intake while locked');
    ok($s_in >= 1.0, sprintf('intake waited for the lock (busy retries) before giving up (%.1f s)', $s_in));
    is_error($rc, 503, 'unavailable', 'callback while locked');
    is($rp->code, 200, 'poll while write-locked: reads go on (WAL)');
    is(count_rows('SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', $user), 0, 'no transaction row');
    is(count_rows('SELECT user_id FROM jumio_accounts WHERE user_id = ?', $user), 0, 'no account row');
    is(count_rows('SELECT id FROM jumio_callbacks WHERE workflow_id = ?', $t->{ref}), $cbs, 'callback not logged');
    is(tx_row($t)->{status}, 'INITIATED', 'status unchanged');

    my $again = send_callback($t, 'ACQUIRED', marker => 'after-lock');
    is($again->code, 200, "callback after the lock is released: 200");
    is(tx_row($t)->{status}, 'ACQUIRED', 'status ACQUIRED');
    my $ok = request(POST => '/jumio/intake', user => $user);
    is($ok->code, 200, 'intake after the lock: 200');
    is(count_rows('SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', $user), 1, 'transaction stored');
    $db->disconnect;
}];

push @subtests, ['unwritable database: 503 unavailable, nothing sent to Jumio, no crash' => sub {
    plan skip_all => 'file permissions do not bind root' if $> == 0;
    JumioTest::fake_reset();
    my $dir = Apache::Test::vars('t_logs') . '/ro-db';
    mkdir $dir;
    chmod 0555, $dir;
    my $h = extra_httpd(name => 'ro-fresh', db => "$dir/jumio.db");
    my $user = new_user('ro');
    is_error(request(POST => '/jumio/intake', user => $user, base => $h->base), 503, 'unavailable', 'intake, database cannot be created');
    is(scalar(fake_requests('account_create')), 0, 'nothing sent to Jumio');
    is_error(send_callback({ ref => uuid_v4(), account => uuid_v4(), token => 'x' }, 'PROCESSED', base => $h->base),
             503, 'unavailable', 'callback, database cannot be created');
    is_error(poll_tx({ ref => uuid_v4(), user => $user, base => $h->base }), 503, 'unavailable', 'poll, database cannot be created');
    ok(!-e "$dir/jumio.db", 'no database file appeared');
    is_deeply([$h->crashes], [], 'no crash');
    $h->stop;
    chmod 0755, $dir;

    # an existing database turned read-only (file 0444, directory 0555)
    my $h2 = extra_httpd(name => 'ro-existing');
    my $t = start_tx(base => $h2->base, tag => 'ro2');
    $h2->stop;
    my $db = $h2->db_path;
    (my $ddir = $db) =~ s{/[^/]+\z}{};
    chmod 0444, grep { -e } $db, "$db-wal", "$db-shm";
    chmod 0555, $ddir;
    $h2->start;
    my $rc = send_callback($t, 'PROCESSED', marker => 'ro');
    is_error($rc, 503, 'unavailable', 'callback on a read-only database');
    my $u2 = new_user('ro2b');
    is_error(request(POST => '/jumio/intake', user => $u2, base => $h2->base), 503, 'unavailable', 'intake on a read-only database');
    my $rp = poll_tx($t);
    ok($rp->code == 200 || $rp->code == 503, 'poll on a read-only database: 200 or 503, got ' . $rp->code);
    is_deeply([$h2->crashes], [], 'no crash');
    $h2->stop;
    chmod 0755, $ddir;
    chmod 0644, grep { -e } $db, "$db-wal", "$db-shm";
    is(count_rows($h2, 'SELECT id FROM jumio_callbacks'), 0, 'nothing logged');
    is(count_rows($h2, 'SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', $u2), 0, 'nothing stored for the intake');
    is(tx_row($t, $h2)->{status}, 'INITIATED', 'status unchanged');
}];

push @subtests, ['acknowledged intake and callbacks survive a hard kill (SIGKILL) of httpd' => sub {
    JumioTest::fake_reset();
    my $h = extra_httpd(name => 'kill9', db => db_is_mysql() ? 'main' : undef);
    my $t = start_tx(base => $h->base, tag => 'k9');
    is(send_callback($t, 'ACQUIRED', marker => 'k9-a')->code, 200, 'callback ACQUIRED acknowledged');
    is(send_callback($t, 'PROCESSED', marker => 'k9-p')->code, 200, 'callback PROCESSED acknowledged');
    $h->kill_hard;
    ok(!$h->answers, 'httpd is gone');
    $h->start;
    my $row = tx_row($t, $h);
    is($row->{status}, 'PROCESSED', 'status PROCESSED after the restart');
    is(count_rows($h, 'SELECT id FROM jumio_callbacks WHERE workflow_id = ?', $t->{ref}), 2, 'both callbacks logged');
    JumioTest::fake_set_workflow($t->{ref}, status => 'PROCESSED');
    my $d = json_of(poll_tx($t)) || {};
    ok($d->{done}, 'poll after the restart: done');
    is_deeply([$h->crashes], [], 'no crash logged (the kill was ours)');
    $h->stop;
}];

push @subtests, ['fresh database: concurrent first requests all succeed (no 503 while creating the schema)' => sub {
    plan skip_all => 'SQLite only' if db_is_mysql();
    my $failed = 0;
    for my $round (1 .. 3) {
        my $h = extra_httpd(name => "fresh$round", start_servers => 16, workers => 16);
        my @rc = in_parallel(16, sub {
            my $res = poll_tx({ ref => '11111111-1111-4111-8111-111111111111', user => "fresh$_[0]", base => $h->base });
            return 0 if $res->code == 404;
            print STDERR "# round $round, client $_[0]: ", $res->code, ' ', substr($res->content, 0, 200), "\n";
            return 1;
        });
        $failed += grep { $_ } @rc;
        is_deeply([$h->crashes], [], "round $round: no crash");
        $h->stop;
    }
    is($failed, 0, 'no request of 48 failed (each: 404 for an unknown reference)');
}];

plan tests => scalar(@subtests), need_module('mod_perl.c');
subtest $_->[0] => $_->[1] for @subtests;
