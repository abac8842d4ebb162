package LoadMix;

# The write-heavy load mix of t/load_mix.t and bench/mix: rounds of genuine callbacks (one per
# transaction, signed with its token), a few intakes and some polls, shuffled over concurrent
# senders (forked processes, one keep-alive connection each); every answer's status and time
# is recorded.
#
#   my $t = LoadMix::transaction($h->base, FakeJumio::State->new($fake_dir), $ua, $user);
#   an intake of $user, its workflow set PROCESSED at that fake (so that a poll may fetch its
#   details): {ref, account, user, token}, or undef when the intake failed.
#
#   my $r = LoadMix::run(base => $h->base, tx => \@tx, rounds => 8, senders => 16,
#                        intakes => 3, polls => 8, timeout => 10, stop_on_fail => 0);
#   @tx: { ref, account, user, token }.  stop_on_fail: no round after one with a non-200.
#   same_user => $user: every intake is for that user (else each for a new one).  Returns { n, codes => {200 => n, ...},
#   p50, p99, max (seconds), kinds => { callback => {n, p50, p99, max, codes}, ... },
#   slowest => ["kind code seconds", ...] (the 5 slowest), wall (seconds) }.
#   LoadMix::summary($r) is one line of it.

use strict;
use warnings;

use Fcntl qw(:flock);
use JSON::PP ();
use List::Util ();
use LWP::UserAgent ();
use HTTP::Request ();
use POSIX ();
use Time::HiRes ();

use JumioTest ();

my $JSON = JSON::PP->new->utf8->canonical;
my @STATUSES = qw(ACQUIRED PROCESSED INITIATED PROCESSED);

# The transaction described at the top.
sub transaction {
    my ($base, $state, $ua, $user) = @_;
    my $res = $ua->post("$base/jumio/intake", 'Content-Length' => 0,
                        Authorization => 'Bearer ' . JumioTest::jwt(sub => $user, exp => time + 600));
    my $ref = (eval { $JSON->decode($res->content) } || {})->{transactionReference} or return undef;
    my $wf = $state->locked(LOCK_EX, sub {
        my $wf = $state->workflow($ref) or return undef;
        $wf->{status} = 'PROCESSED';
        $state->save_workflow($ref, $wf);
        return $wf;
    }) or return undef;
    my ($token) = ($wf->{callbackUrl} // '') =~ /jumio_token=([^&]+)/;
    return $token ? { ref => $ref, account => $wf->{account_id}, user => $user, token => $token }
                  : undef;
}

# One request of a job; the HTTP::Request.
sub _request {
    my ($o, $job) = @_;
    my ($kind, $t, $round) = @$job;
    my $base = $o->{base};
    if ($kind eq 'callback') {
        my $body = $JSON->encode({ workflowExecution => { id => $t->{ref},
                                                          status => $STATUSES[$round % @STATUSES] },
                                   account => { id => $t->{account} },
                                   callbackSentAt => "mix-$round-$t->{ref}" });
        return HTTP::Request->new(POST => "$base/jumio/callback?jumio_token=$t->{token}",
            ['Content-Type' => 'application/json', 'Content-Length' => length $body], $body);
    }
    my $auth = 'Bearer ' . JumioTest::jwt(sub => $kind eq 'poll' ? $t->{user} : $t,
                                          exp => time + 600);
    return HTTP::Request->new(GET => "$base/jumio/poll",
        [Authorization => $auth, 'X-Transaction-Reference' => $t->{ref}]) if $kind eq 'poll';
    return HTTP::Request->new(POST => "$base/jumio/intake",
        [Authorization => $auth, 'Content-Length' => 0]);
}

# The jobs of one round, shuffled: a callback per transaction, intakes (new users), polls.
sub _round_jobs {
    my ($o, $round) = @_;
    my @tx = @{ $o->{tx} };
    my @jobs = map { ['callback', $_, $round] } @tx;
    push @jobs, ['intake', $o->{same_user} // "mix-$$-$round-$_", $round] for 1 .. $o->{intakes};
    push @jobs, ['poll', $tx[rand @tx], $round] for @tx ? 1 .. $o->{polls} : ();
    return List::Util::shuffle(@jobs);
}

# Sender $i of a round: its share of the jobs, one line "kind code seconds" each to $fh.
sub _sender {
    my ($o, $jobs, $i, $fh) = @_;
    my $ua = LWP::UserAgent->new(timeout => $o->{timeout}, keep_alive => 1);
    for (my $j = $i; $j < @$jobs; $j += $o->{senders}) {
        my $t0 = Time::HiRes::time();
        my $res = $ua->request(_request($o, $jobs->[$j]));
        printf {$fh} "%s %d %.4f\n", $jobs->[$j][0], $res->code, Time::HiRes::time() - $t0;
    }
}

# Runs one round with every sender in its own process; the answer lines.
sub _round {
    my ($o, $round) = @_;
    my @jobs = _round_jobs($o, $round);
    my (@pipes, @pids);
    for my $i (0 .. $o->{senders} - 1) {
        pipe(my $r, my $w) or die "pipe: $!";
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            close $r;
            srand($$ ^ $round);
            eval { _sender($o, \@jobs, $i, $w) };
            close $w;
            POSIX::_exit($@ ? 1 : 0);
        }
        close $w;
        push @pipes, $r;
        push @pids, $pid;
    }
    my @lines = map { my $r = $_; my @l = <$r>; close $r; @l } @pipes;
    waitpid($_, 0) for @pids;
    return @lines;
}

# Quantile $q (0..1) of sorted numbers.
sub _quantile {
    my ($q, @s) = @_;
    return 0 unless @s;
    my $i = int($q * @s + 0.999999) - 1;
    return $s[$i < 0 ? 0 : $i > $#s ? $#s : $i];
}

# Counts and quantiles of answer records [kind, code, seconds].
sub _stats {
    my (@a) = @_;
    my @s = sort { $a <=> $b } map { $_->[2] } @a;
    my %codes;
    $codes{ $_->[1] }++ for @a;
    return { n => scalar @a, codes => \%codes, p50 => _quantile(0.5, @s),
             p99 => _quantile(0.99, @s), max => $s[-1] // 0 };
}

# Runs the mix; the result described at the top.
sub run {
    my (%o) = @_;
    my $o = { rounds => 8, senders => 16, intakes => 3, polls => 8, timeout => 10, %o };
    my $t0 = Time::HiRes::time();
    my @a;
    for my $round (1 .. $o->{rounds}) {
        my @round = map { [split ' '] } _round($o, $round);
        push @a, @round;
        last if $o->{stop_on_fail} && grep { $_->[1] != 200 } @round;
    }
    my $r = _stats(@a);
    my %kinds;
    push @{ $kinds{ $_->[0] } }, $_ for @a;
    $r->{kinds} = { map { $_ => _stats(@{ $kinds{$_} }) } keys %kinds };
    $r->{slowest} = [map { join ' ', @$_ } (sort { $b->[2] <=> $a->[2] } @a)[0 .. ($#a < 4 ? $#a : 4)]];
    $r->{wall} = Time::HiRes::time() - $t0;
    $r->{expected} = $o->{rounds} * (@{ $o->{tx} } + $o->{intakes} + $o->{polls});
    return $r;
}

# One line: requests, statuses, p50/p99/max in ms.
sub summary {
    my ($r) = @_;
    return sprintf '%d requests in %.1f s: %s; p50 %.0f ms, p99 %.0f ms, max %.0f ms', $r->{n},
        $r->{wall}, join(', ', map { "$r->{codes}{$_}x $_" } sort keys %{ $r->{codes} }),
        1000 * $r->{p50}, 1000 * $r->{p99}, 1000 * $r->{max};
}

1;
