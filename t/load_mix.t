# t/load_mix.t - concurrent writes under load: 40 transactions, then 8 rounds of a genuine
# callback for each from 16 concurrent senders, with a few intakes and polls mixed in, on
# an event MPM httpd (one child, 32 threads: every request of a round shares one process
# and its database driver) and on a prefork one.  Every answer must be 200 and none slower
# than 1 s: no request may wait on a database lock while holding what the lock's owner needs
# (docs/DESIGN.md, Storage).  SQLite, or the MariaDB of the suite's -defines JUMIO_MYSQL pass.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;
use JumioTest::Httpd ();
use FakeJumio::State ();
use LoadMix;

use LWP::UserAgent ();

plan tests => 3, need_module('mod_perl.c');

# A fake Jumio of its own with enough workers: the suite's (12 workers) would be the bottleneck.
my $fake = JumioTest::Httpd->new(name => 'mix-fake', logs => Apache::Test::vars('t_logs'),
                                 t_dir => Apache::Test::vars('serverroot'), with_fake => 1,
                                 no_jumio => 1, workers => 32, start_servers => 16,
                                 loglevel => 'warn');
my $STATE = FakeJumio::State->new($fake->fake_dir);

my @DB = db_is_mysql() ? (db => 'main') : ();
my %MPM = (event => [mpm => 'event', threads => 32, workers => 32, start_servers => 1],
           prefork => [mpm => 'prefork', workers => 20, start_servers => 16]);

for my $mpm (qw(event prefork)) {
    subtest "$mpm MPM: callbacks, intakes and polls from 16 senders" => sub {
        my $h = extra_httpd(name => "mix-$mpm", @{ $MPM{$mpm} }, background => 0,
                            loglevel => 'notice', fake => $fake->url('/fake'), @DB);
        my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 1);
        my @tx = grep { $_ }
                 map { LoadMix::transaction($h->base, $STATE, $ua, new_user('mix')) } 1 .. 40;
        is(scalar @tx, 40, '40 transactions');
        my $r = LoadMix::run(base => $h->base, tx => \@tx, rounds => 8, senders => 16,
                             intakes => 3, polls => 8, timeout => 5, stop_on_fail => 1);
        note(LoadMix::summary($r));
        is($r->{n}, $r->{expected}, "$r->{expected} answers (8 rounds)");
        is($r->{codes}{200} // 0, $r->{n}, 'every answer 200')
            or diag(LoadMix::summary($r));
        cmp_ok($r->{max}, '<', 1, sprintf('slowest answer %.0f ms (< 1 s)', 1000 * $r->{max}))
            or diag(join "\n", LoadMix::summary($r), @{ $r->{slowest} });
        is_deeply([$h->crashes], [], 'no crash in its error_log');
        $h->stop;
    };
}
# First intakes of one new user at once: their account upserts race for one row that does not
# exist yet (MariaDB/InnoDB: gap locks, deadlocks), later ones for the row that does.
subtest 'one user: 4 rounds of 16 concurrent intakes' => sub {
    my $h = extra_httpd(name => 'mix-user', @{ $MPM{event} }, background => 0,
                        loglevel => 'notice', fake => $fake->url('/fake'), @DB);
    my $r = LoadMix::run(base => $h->base, tx => [], rounds => 4, senders => 16, intakes => 16,
                         polls => 0, same_user => new_user('same'), timeout => 5);
    note(LoadMix::summary($r));
    is($r->{n}, 64, '64 answers');
    is($r->{codes}{200} // 0, $r->{n}, 'every answer 200') or diag(LoadMix::summary($r));
    cmp_ok($r->{max}, '<', 1, sprintf('slowest answer %.0f ms (< 1 s)', 1000 * $r->{max}))
        or diag(join "\n", LoadMix::summary($r), @{ $r->{slowest} });
    $h->stop;
};
$fake->stop;
