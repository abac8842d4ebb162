# t/race_mariadb.t - the races and waits of t/race.t on MariaDB (the suite's -defines
# JUMIO_MYSQL pass; extra httpds on the same database, a fake Jumio of their own):
#  - user ids compare exactly: the utf8mb4 default collation ignores case and trailing spaces,
#    the module must not (another user's account is never used, erased or authenticated);
#  - two nodes, 10 intakes of one new user to each at once: one Jumio account in total, and
#    erase deletes every account Jumio made for the user;
#  - another session holding the transaction's row (SELECT ... FOR UPDATE) or the callbacks
#    table (LOCK TABLES ... WRITE): a callback answers 503 within JumioDBTimeout + 1 s and
#    nothing is stored.
# The scenarios shared with t/race.t are in t/lib/JumioTest/Race.pm.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;
use JumioTest::Race;

use LWP::UserAgent ();
use Time::HiRes qw(time sleep);

unless (JumioTest::db_is_mysql()) {
    plan skip_all => 'runs in the MariaDB pass only (-defines JUMIO_MYSQL, JUMIO_TEST_MYSQL)';
    exit 0;
}
plan tests => 4, need_module('mod_perl.c');

# A fake Jumio of its own (JumioTest::Race); every node on the suite's MariaDB.
my $fake = race_fake('race-maria-fake', db => 'main');

my $A = node('race-nodeA', mpm => 'event', threads => 16, workers => 16, start_servers => 1);
my $B = node('race-nodeB', mpm => 'event', threads => 16, workers => 16, start_servers => 1);
# JumioDBTimeout 2: every database wait ends within 2 s (+ 1 s of slack)
my $L = node('race-lockM', conf => 'JumioDBTimeout 2', workers => 8, start_servers => 4);

subtest 'ids compare exactly on MariaDB: ALICE/alice, "bob " / bob, erase by CAROL, workflow 9 by DAVE are other users' => sub {
    case_variants($B);
};

subtest 'two nodes, 10 simultaneous intakes of one new user each: one Jumio account, erase deletes all' => sub {
    one_user_burst('two nodes', $A, ($A->base) x 10, ($B->base) x 10);
};

# A callback of a new transaction on $L while another session holds a lock ($lock->($dbh, $t)
# takes it, $unlock->($dbh) frees it once the callback is answered): 503 within 3 s, nothing stored.
sub callback_under_lock {
    my ($tag, $lock, $unlock) = @_;
    fake_reset();
    my $t = start_tx(base => $L->base, tag => $tag);
    my $ua = LWP::UserAgent->new(timeout => 10, keep_alive => 0, max_redirect => 0);
    my $marker = "$tag-$RUN";
    my $dbh = JumioTest::db_connect();
    $lock->($dbh, $t);
    my ($res, $secs) = timed(sub { send_callback($t, 'ACQUIRED', marker => $marker, ua => $ua) });
    $unlock->($dbh);
    is_error($res, 503, 'unavailable', 'callback');
    cmp_ok($secs, '<', 3, sprintf('callback answered in %.1f s (< 3 s)', $secs));
    sleep 1;    # whatever the module still had in hand lands now
    is(count_rows($L, 'SELECT id FROM jumio_callbacks WHERE body LIKE ?', "%$marker%"), 0, 'nothing stored');
    is(tx_row($t, $L)->{status}, 'INITIATED', 'status unchanged');
    $dbh->disconnect;
    return;
}

subtest 'transaction row locked by another session (SELECT ... FOR UPDATE): callback 503 within 3 s, nothing stored' => sub {
    callback_under_lock('rowlock', sub {
        my ($dbh, $t) = @_;
        $dbh->begin_work;
        $dbh->selectall_arrayref('SELECT workflow_id FROM jumio_transactions WHERE workflow_id = ? FOR UPDATE',
                                 undef, $t->{ref});
    }, sub { $_[0]->rollback });
};

subtest 'callbacks table locked by another session (LOCK TABLES ... WRITE): callback 503 within 3 s, nothing stored' => sub {
    callback_under_lock('tablelock', sub { $_[0]->do('LOCK TABLES jumio_callbacks WRITE') },
                        sub { $_[0]->do('UNLOCK TABLES') });
    is_deeply([ map { $_->crashes } $A, $B, $L ], [], 'no crash in the nodes\' error_logs');
};

$A->stop;
$L->stop;
$B->stop;
$fake->stop;
