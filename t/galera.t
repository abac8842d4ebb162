# t/galera.t - mod_jumio on a 3-node MariaDB Galera cluster (the suite's -defines JUMIO_MYSQL
# pass; the cluster is the file's own, made by t/db/galera in a temp directory on free ports,
# and stopped at the end whatever happens). Three extra httpds, each on its own node (event,
# prefork, event), on a fake Jumio of their own (JumioTest::Race):
#  (d) three fresh nodes starting together create the schema once;
#  (a) 20 simultaneous intakes of one new user spread over the three nodes: one Jumio account
#      (one POST, 19 PUTs), one account row, 20 transactions, all 200; the erase deletes all;
#  (b) an erase on one node racing callbacks on the two others: nothing of the user is left
#      on any node after an acknowledged erase;
#  (c) what one node stored (intake, callback) is what a poll on another node answers at once
#      (8 clients at once: without causal reads a run sees a 404 or a stale status).
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;
use JumioTest::Race;

use Cwd qw(abs_path);
use File::Path qw(remove_tree);
use File::Temp ();
use IO::Socket::INET ();
use Time::HiRes qw(time sleep);

my $PROVIDER = '/usr/lib/galera/libgalera_smm.so';
my $CTL      = abs_path('t/db/galera');
my $VERSION  = 3;    # the schema version of this module (src/store/dialect.h)
my $CREATED  = qr/database schema created at version $VERSION/;
my $UPGRADED = qr/database schema upgraded/;
my $LOGLEVEL = $ENV{JUMIO_GALERA_LOGLEVEL} // 'notice';    # e.g. "notice jumio:debug"

unless (JumioTest::db_is_mysql()) {
    plan skip_all => 'runs in the MariaDB pass only (-defines JUMIO_MYSQL, JUMIO_TEST_MYSQL)';
    exit 0;
}
my @missing = grep { !-e $_ } $PROVIDER, $CTL, map { my $p = $_; (grep { -x } map { "$_/$p" } split /:/, $ENV{PATH})[0] // $p }
    qw(mariadbd mariadb-install-db rsync wsrep_sst_rsync);
if (@missing) {
    plan skip_all => "Galera not available (missing: @missing; Debian packages galera-4 rsync)";
    exit 0;
}
plan tests => 5, need_module('mod_perl.c');

# ---- the cluster: started here, stopped at the end (or by END / a signal) ----

my $OWNER = $$;
my $DIR = File::Temp::tempdir('jumio-galera.XXXXXX', TMPDIR => 1);
my $STOPPED = 0;

# Pids of mariadbd processes of this file's cluster.
sub cluster_pids {
    my @p;
    opendir(my $dh, '/proc') or return ();
    for my $pid (grep { /\A\d+\z/ } readdir $dh) {
        open(my $fh, '<', "/proc/$pid/cmdline") or next;
        my $cmd = do { local $/; <$fh> } // '';
        close $fh;
        push @p, $pid if $cmd =~ /\Amariadbd\0/ && index($cmd, "--datadir=$DIR/") >= 0;
    }
    closedir $dh;
    return @p;
}

# Stop the cluster (t/db/galera stop); SIGKILL what is left of it after that; remove $DIR when
# nothing of it runs. 1 when it stopped by itself.
sub stop_cluster {
    return 1 if $STOPPED++;
    my $out = `'$CTL' stop '$DIR' 2>&1`;
    my $ok = $? == 0;
    print STDERR "# t/db/galera stop: $out" if length $out;
    my @left = cluster_pids();
    if (@left) {
        $ok = 0;
        kill 'KILL', @left;
        JumioTest::wait_until(10, sub { !cluster_pids() });
    }
    remove_tree($DIR) unless cluster_pids();
    return $ok && !@left;
}

END {
    local $?;
    stop_cluster() if $OWNER && $$ == $OWNER;
}
$SIG{$_} = sub { exit 1 } for qw(INT TERM HUP);

# A base port with the 12 ports the cluster uses (t/db/galera: 4 per node) all free.
sub free_base {
    for (1 .. 100) {
        my $base = 20000 + 4 * int(rand(7000));
        my $free = 1;
        for my $p ($base .. $base + 11) {
            my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $p, Proto => 'tcp',
                                          Listen => 1, ReuseAddr => 1);
            $free = 0, last unless $s;
            close $s;
        }
        return $base if $free;
    }
    die 'no 12 free consecutive ports for the Galera cluster';
}

my $t0 = time;
my $BASE = free_base();
my @PARAMS = grep { /\Ahost=/ } split /\n/, `'$CTL' start '$DIR' $BASE 2>&1`;
my $started = $? == 0 && @PARAMS == 3;
unless ($started) {
    my $log = join '', map { my $f = "$DIR/node$_/error.log"; -r $f ? `tail -20 '$f'` : '' } 1 .. 3;
    BAIL_OUT("the Galera cluster did not start (base port $BASE): @PARAMS\n$log");
}
diag(sprintf 'Galera cluster of 3 nodes up on 127.0.0.1:%d.. in %.1f s', $BASE, time - $t0);

# A fake Jumio of its own (JumioTest::Race); nodes on the cluster, one each.
my $fake = race_fake('galera-fake');
my @N = (
    node('galera-n1', loglevel => $LOGLEVEL, mpm => 'event', threads => 16, workers => 16, start_servers => 1,
         dbd_driver => 'mysql', dbd_params => $PARAMS[0], no_start => 1),
    node('galera-n2', loglevel => $LOGLEVEL, mpm => 'prefork', workers => 12, start_servers => 8,
         dbd_driver => 'mysql', dbd_params => $PARAMS[1], no_start => 1),
    node('galera-n3', loglevel => $LOGLEVEL, mpm => 'event', threads => 16, workers => 16, start_servers => 1,
         dbd_driver => 'mysql', dbd_params => $PARAMS[2], no_start => 1),
);

subtest '(d) three fresh nodes starting together on the cluster: schema created once' => sub {
    $_->start for @N;
    # 3 requests to each node at once: the first connection of each makes the schema current
    my @r = in_parallel_results(9, sub {
        my $res = poll(uuid_v4(), user => 'galera-schema', base => $N[ $_[0] % 3 ]->base);
        return ($res->code, substr($res->content, 0, 200));
    });
    is_deeply([ map { "$_->[0] $_->[1]" } grep { $_->[0] != 404 } @r ], [],
              'every poll of an unknown reference answered 404 not_found');
    my @created = grep { $_ =~ $CREATED } map { split /\n/, $_->error_log_text } @N;
    is(scalar @created, 1, 'exactly one "created at version" line across the three error logs')
        or diag(join "\n", @created);
    my @upgraded = grep { $_ =~ $UPGRADED } map { split /\n/, $_->error_log_text } @N;
    is_deeply(\@upgraded, [], 'no "upgraded" line (the database was empty)');
    for my $i (0 .. 2) {
        my $node = $i + 1;
        is_deeply([ map { { id => $_->{id}, version => $_->{version} } }
                    $N[$i]->db_rows('SELECT id, version FROM jumio_schema') ],
                  [ { id => 1, version => $VERSION } ], "node $node: jumio_schema one row, version $VERSION");
        my @tables = jumio_tables($N[$i]);
        is(scalar @tables, 7, "node $node: the 7 jumio_* tables") or diag("@tables");
    }
};

subtest '(a) 20 simultaneous intakes of one new user over three Galera nodes: one Jumio account, erase deletes all' => sub {
    one_user_burst('three Galera nodes', $N[0], map { $N[ $_ % 3 ]->base } 0 .. 19);
};

# Rows of $user (and @refs) left on any node, after the cluster had time to apply the last writes.
sub left_anywhere {
    my ($user, @refs) = @_;
    my @left;
    JumioTest::wait_until(3, sub {
        @left = map { my $i = $_; map { 'node ' . ($i + 1) . ": $_" } user_leftovers($N[$i], $user, @refs) } 0 .. 2;
        !@left;
    });
    return @left;
}

subtest '(b) erase on one node racing callbacks on the two others: nothing outlives the erase, 15 rounds' => sub {
    fake_reset();
    my $rounds = 15;
    my (%answers, @why);
    for my $round (1 .. $rounds) {
        my $user = new_user('gcbrace');
        my $e = $round % 3;    # the erase's node; the callbacks go to the two others
        my @cb = grep { $_ != $e } 0 .. 2;
        my $t = start_tx(user => $user, base => $N[ $cb[0] ]->base, quiet => 1);
        unless ($t->{ref} && $t->{token}) {
            push @why, "round $round: intake failed: " . $t->{res}->code;
            next;
        }
        # erase on node $e; an ACQUIRED and a PROCESSED callback on the other two, 0-40 ms later
        my @r = in_parallel_results(3, sub {
            my ($i) = @_;
            return request(DELETE => '/jumio/erase', user => $user, base => $N[$e]->base)->code unless $i;
            sleep rand(0.04);
            return send_callback($t, $i == 1 ? 'ACQUIRED' : 'PROCESSED', base => $N[ $cb[ $i - 1 ] ]->base,
                                 marker => "gcbrace-$round-$i")->code;
        });
        my ($er, @cbs) = map { $_->[0] } @r;
        $answers{"erase $er, callbacks @cbs"}++;
        my @left = left_anywhere($user, $t->{ref});
        push @why, "round $round: erase $er (node " . ($e + 1) . "), callbacks @cbs"
                   . join('', map { "\n    left: $_" } @left)
            if $er ne '200' || grep({ !/\A(?:200|403)\z/ } @cbs) || @left;
    }
    diag('answers: ' . join(', ', map { "$answers{$_}x ($_)" } sort keys %answers));
    is_deeply(\@why, [], "every erase 200, every callback 200 or 403, no row of the user on any node ($rounds rounds)");
    no_violations('erase racing callbacks');
};

subtest '(c) a write on one node is what a poll on another answers at once (intake, callback), 8 clients x 8 rounds' => sub {
    fake_reset();
    # 8 clients at once (the cluster busy applying the others' writes), each 8 rounds of: an
    # intake on one node, at once a poll on the next (INITIATED); an ACQUIRED callback on that
    # node, at once a poll on the third (ACQUIRED). The lines of what went wrong.
    my @r = in_parallel_results(8, sub {
        my ($client) = @_;
        my @bad;
        for my $round (1 .. 8) {
            my ($a, $b, $c) = map { $N[ ($client + $round + $_) % 3 ] } 0 .. 2;
            my $tag = "client $client round $round";
            my $t = start_tx(base => $a->base, tag => 'gpoll', quiet => 1);
            unless ($t->{ref} && $t->{token}) {
                push @bad, "$tag: intake failed: " . $t->{res}->code;
                next;
            }
            # "200 <the pending answer, canonical JSON>" wanted, for a status
            my $want = sub { '200 ' . $JSON->encode({ done => JSON::PP::false(), transactionReference => $t->{ref},
                                                      status => $_[0] }) };
            my $got = sub {
                my $res = poll_tx($t, base => $_[0]->base);
                my $d = json_of($res);
                return $res->code . ' ' . ($d ? $JSON->encode($d) : $res->content);
            };
            my $p = $got->($b);
            push @bad, "$tag: intake on " . $a->name . ', poll on ' . $b->name . ": $p"
                unless $p eq $want->('INITIATED');
            my $cb = send_callback($t, 'ACQUIRED', base => $b->base, marker => "gpoll-$client-$round");
            push @bad, "$tag: callback on " . $b->name . ': ' . $cb->code unless $cb->code == 200;
            $p = $got->($c);
            push @bad, "$tag: ACQUIRED on " . $b->name . ', poll on ' . $c->name . ": $p"
                unless $p eq $want->('ACQUIRED');
        }
        return @bad;
    });
    my @bad = map { @$_ } @r;
    is_deeply(\@bad, [], 'every poll on another node answered what the first node had stored');

    # a PROCESSED callback on node 2, the details fetched by a poll on node 3: node 1 answers the same
    my $t = processed_tx(base => $N[0]->base, tag => 'gdone');
    my $t2 = { %$t, base => $N[1]->base };
    callback_ok($t2, 'PROCESSED');
    my $d3 = poll_until_done({ %$t, base => $N[2]->base }, 'poll on node 3');
    my $d1 = poll_answer($t, 'poll on node 1');
    is_deeply($d1, $d3, 'node 1 answers what node 3 stored');
    is(ref $d3 eq 'HASH' && $d3->{decision}, 'PASSED', 'decision PASSED');
    is(scalar(tx_calls($t, 'details')), 1, 'details fetched from Jumio once');
};

subtest 'no crash; the cluster stops and no mariadbd of it is left' => sub {
    is_deeply([ map { $_->crashes } @N ], [], "no crash in the nodes' error_logs");
    my @errors = grep { /:(?:error|crit|alert|emerg)\]/ }
                 map { split /\n/, $_->error_log_text } @N;
    diag(join "\n", 'error lines in the nodes\' error_logs:', @errors[0 .. ($#errors > 19 ? 19 : $#errors)]) if @errors;
    $_->stop for @N;
    $fake->stop;
    ok(stop_cluster(), 't/db/galera stop stopped the three nodes');
    is_deeply([ cluster_pids() ], [], 'no mariadbd of the cluster is left');
    ok(!-d $DIR, 'the cluster directory is removed');
    diag(sprintf 'galera.t: %.0f s in all', time - $t0);
};
