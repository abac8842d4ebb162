# Two httpd nodes sharing one MariaDB (scripts/test's MariaDB pass): a callback may land on
# any node and the front-end may poll any other; nothing acknowledged is lost and details are
# fetched once per transaction, not once per node.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Httpd;
use JumioTest::Kit;
use POSIX ();
use List::Util ();

unless (JumioTest::db_is_mysql()) {
    plan skip_all => 'runs in the MariaDB pass of scripts/test only';
    exit 0;
}
plan tests => 3, need_module('mod_perl.c');

my $FAKE = 'http://127.0.0.1:' . Apache::Test::vars('port') . '/fake';
my %node = map {
    $_ => JumioTest::Httpd->new(name => "node$_", fake => $FAKE, dbd_driver => 'mysql',
                                dbd_params => $ENV{JUMIO_TEST_MYSQL}, background => 1,
                                schedule => [1, 2, 3], workers => 12)
} qw(A B);

subtest 'intake on A, callback on B, poll on A and on B: one result, details fetched once' => sub {
    fake_reset();
    my $t = start_tx(base => $node{A}->base, tag => 'twonode');
    my $cb = send_callback($t, 'PROCESSED', base => $node{B}->base);
    is($cb->code, 200, 'callback on node B: 200 (the signing token is in the shared row)');
    my ($a, $b);
    ok(wait_until(10, sub {
        $a = json_of(poll_tx($t, base => $node{A}->base)) || {};
        $b = json_of(poll_tx($t, base => $node{B}->base)) || {};
        $a->{done} && $b->{done};
    }), 'both nodes answer done');
    is_deeply($b, $a, 'node A and node B give the same answer');
    is($a->{status}, 'PROCESSED', 'PROCESSED');
    is($a->{decision}, 'PASSED', 'decision PASSED');
    is(scalar(tx_calls($t, 'details')), 1, 'details fetched exactly once for both nodes');
};

subtest '500 concurrent callbacks over both nodes: none lost, status right, details once each' => sub {
    fake_reset();
    my @tx = map { start_tx(base => $node{$_ % 2 ? 'A' : 'B'}->base, tag => "many$_") } 1 .. 50;
    is(scalar(grep { $_->{res}->code == 200 } @tx), 50, '50 intakes over both nodes');
    # 10 callbacks per transaction, statuses out of order and repeated, spread over the nodes
    my @jobs;
    for my $i (0 .. $#tx) {
        for my $k (0 .. 9) {
            my $status = (qw(ACQUIRED PROCESSED INITIATED PROCESSED ACQUIRED))[$k % 5];
            push @jobs, [$i, $status, ($i + $k) % 2 ? 'A' : 'B'];
        }
    }
    my $workers = 10;
    my %acked;                         # "$i" => number of 200 answers
    my @pipes;
    for my $w (0 .. $workers - 1) {
        pipe(my $r, my $wr) or die "pipe: $!";
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            close $r;
            my $ua = keep_alive_ua();
            for my $j (grep { $_ % $workers == $w } 0 .. $#jobs) {
                my ($i, $status, $n) = @{ $jobs[$j] };
                my $res = send_callback($tx[$i], $status, base => $node{$n}->base, ua => $ua);
                print {$wr} "$i " . $res->code . "\n";
            }
            close $wr;
            POSIX::_exit(0);
        }
        close $wr;
        push @pipes, $r;
    }
    my $answers = 0;
    for my $r (@pipes) {
        while (my $line = <$r>) {
            my ($i, $code) = split ' ', $line;
            $answers++;
            $acked{$i}++ if $code == 200;
        }
    }
    waitpid(-1, 0) for 1 .. $workers;
    is($answers, 500, '500 callbacks answered');
    is(List::Util::sum(0, values %acked), 500, 'every callback acknowledged with 200');
    my $lost = 0;
    for my $i (0 .. $#tx) {
        my @rows = rows('SELECT id FROM jumio_callbacks WHERE workflow_id = ?', $tx[$i]{ref});
        $lost++ if @rows != ($acked{$i} // 0);
    }
    is($lost, 0, 'every acknowledged callback is in jumio_callbacks');
    my @final = grep { (tx_row($_)->{status} // '') eq 'PROCESSED' } @tx;
    is(scalar @final, 50, 'every transaction ends PROCESSED (status only moves forward)');
    # polls on both nodes; the background tasks of both nodes race for the details too
    for my $t (@tx) {
        poll_tx($t, base => $node{A}->base);
        poll_tx($t, base => $node{B}->base);
    }
    ok(wait_until(20, sub { !grep { !defined tx_row($_)->{details} } @tx }), 'details stored for all 50');
    my @twice = grep { tx_calls($_, 'details') != 1 } @tx;
    is(scalar @twice, 0, 'details fetched exactly once per transaction')
        or diag(join ', ', map { "$_->{ref}: " . scalar(tx_calls($_, 'details')) } @twice[0 .. 4]);
};

subtest 'no node crashed' => sub {
    for my $n (sort keys %node) {
        is_deeply([$node{$n}->crashes], [], "node $n: no crash in its error_log");
    }
};
