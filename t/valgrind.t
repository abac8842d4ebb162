# valgrind memcheck of httpd -X with mod_jumio over the module's paths (intake, PUT, callback,
# poll with details fetch, errors, status, erase): no definite leak whose stack passes through
# mod_jumio. The extra httpd serves mod_jumio only; the fake Jumio stays on the test server,
# so a single-process httpd cannot deadlock on its own Jumio calls.
# Runs when JUMIO_VALGRIND=1 (scripts/test sets it in the SQLite pass) and valgrind is installed.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Httpd;
use JumioTest::Kit;
use POSIX ();

# Skipped on purpose outside scripts/test's SQLite pass (the reason says which pass this is),
# and when valgrind is missing.
my $asan = ($ENV{LD_PRELOAD} // '') =~ /libasan/;
my $skip = !$ENV{JUMIO_VALGRIND}
               ? (JumioTest::db_is_mysql() ? 'MariaDB pass: ' : $asan ? 'ASan+UBSan pass: ' : '')
                 . 'valgrind runs in the SQLite pass of scripts/test only (JUMIO_VALGRIND=1 is not set)'
         : $asan ? 'valgrind cannot run beside the preloaded ASan runtime (ASan+UBSan pass)'
         : !-x '/usr/bin/valgrind' ? 'JUMIO_VALGRIND=1 but /usr/bin/valgrind is missing: install valgrind'
         : undef;
if ($skip) {
    plan skip_all => $skip;
    exit 0;
}
plan tests => 4, need_module('mod_perl.c');

my $FAKE = 'http://127.0.0.1:' . Apache::Test::vars('port') . '/fake';
my $h = JumioTest::Httpd->new(name => 'valgrind', fake => $FAKE, no_start => 1, timeout => '20 5',
                              conf => "<Location /jumio/status>\n SetHandler jumio-status\n</Location>\n"
                                    . "<Location /jumio/erase>\n SetHandler jumio-erase\n</Location>");
my $log = $h->dir . '/logs/valgrind.log';
my $pid = fork // die "fork: $!";
if (!$pid) {
    { exec 'valgrind', '--leak-check=full', '--show-leak-kinds=definite',
           '--errors-for-leak-kinds=definite', '--num-callers=30', "--log-file=$log",
           $JumioTest::Httpd::HTTPD, '-X', '-f', $h->conf_file; }
    POSIX::_exit(127);
}

subtest 'httpd -X under valgrind serves every path of the module' => sub {
    ok(wait_until(120, sub { $h->answers }), 'httpd -X under valgrind answers') or return;
    fake_reset();
    my $base = $h->base;
    for my $round (1 .. 2) {
        my $t = start_tx(base => $base, tag => "vg$round");
        is(send_callback($t, 'PROCESSED', base => $base)->code, 200, "round $round: callback 200");
        my $d = json_of(poll_tx($t, base => $base)) || {};
        ok($d->{done}, "round $round: poll done with details");
        is(request(GET => '/jumio/poll', base => $base, user => $t->{user},
               headers => ['X-Transaction-Reference' => 'nope'])->code, 404, "round $round: poll 404");
        is(request(POST => '/jumio/intake', base => $base, auth => 'Bearer x.y.z')->code, 401,
           "round $round: intake 401");
        is(request(POST => '/jumio/callback', base => $base, body => '{"a":1}',
               headers => ['Content-Type' => 'application/json'])->code, 400, "round $round: callback 400");
        is(request(GET => '/jumio/status', base => $base)->code, 200, "round $round: status 200");
        my $again = start_tx(base => $base, user => $t->{user}, tag => "vg$round");   # PUT
        is(request(DELETE => '/jumio/erase', base => $base, user => $t->{user})->code, 200,
           "round $round: erase 200");
    }
};

subtest 'httpd stops cleanly' => sub {
    kill 'TERM', $pid;
    my $gone = 0;
    for (1 .. 600) {
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) { $gone = 1; last }
        select undef, undef, undef, 0.1;
    }
    ok($gone, 'valgrind and httpd exited') or kill 'KILL', $pid;
};

my $text = do { local (@ARGV, $/) = ($log); <> } // '';

subtest 'valgrind ran to its leak summary' => sub {
    like($text, qr/LEAK SUMMARY|All heap blocks were freed/, 'leak summary present');
    like($text, qr/ERROR SUMMARY/, 'error summary present');
};

subtest 'no definite leak and no invalid access in mod_jumio' => sub {
    # valgrind's records, one per blank-line separated block
    my @records = split /\n==\d+== \n/, $text;
    my @ours = grep { /mod_jumio\.so|jumio_/ } @records;
    my @leaks = grep { /definitely lost/ } @ours;
    my @invalid = grep { /Invalid (read|write|free)|uninitialised|Mismatched free/ } @ours;
    is(scalar @leaks, 0, 'no definitely lost block allocated through mod_jumio')
        or diag(join "\n---\n", @leaks[0 .. ($#leaks < 2 ? $#leaks : 2)]);
    is(scalar @invalid, 0, 'no invalid access in mod_jumio')
        or diag(join "\n---\n", @invalid[0 .. ($#invalid < 2 ? $#invalid : 2)]);
};
