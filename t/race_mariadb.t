# t/race_mariadb.t - the races and waits of t/race.t on MariaDB (the suite's -defines
# JUMIO_MYSQL pass; extra httpds on the same database, a fake Jumio of their own):
#  - user ids compare exactly: the utf8mb4 default collation ignores case and trailing spaces,
#    the module must not (another user's account is never used, erased or authenticated);
#  - two nodes, 10 intakes of one new user to each at once: one Jumio account in total, and
#    erase deletes every account Jumio made for the user;
#  - another session holding the transaction's row (SELECT ... FOR UPDATE) or the callbacks
#    table (LOCK TABLES ... WRITE): a callback answers 503 within JumioDBTimeout + 1 s and
#    nothing is stored.
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
use LWP::UserAgent ();
use Time::HiRes qw(time sleep);

unless (JumioTest::db_is_mysql()) {
    plan skip_all => 'runs in the MariaDB pass only (-defines JUMIO_MYSQL, JUMIO_TEST_MYSQL)';
    exit 0;
}
plan tests => 4, need_module('mod_perl.c');

# A fake Jumio of its own with enough workers for 20 delayed account calls at once (the test
# server's has 12); the helpers (fake_requests, fake_control, start_tx ...) read its state.
my $fake = JumioTest::Httpd->new(name => 'race-maria-fake', logs => Apache::Test::vars('t_logs'),
                                 t_dir => Apache::Test::vars('serverroot'), with_fake => 1,
                                 no_jumio => 1, workers => 48, start_servers => 40,
                                 # idle keep-alive connections of the nodes' children would
                                 # each hold one of its (prefork) children for 5 s
                                 conf => 'KeepAliveTimeout 1',
                                 loglevel => 'warn');
$ENV{JUMIO_FAKE_DIR} = $fake->fake_dir;
my $STATE = FakeJumio::State->new($fake->fake_dir);

# The locations the extra httpds lack: erase, and authentication (workflow 9).
my $MORE = join "\n", '<Location /jumio/erase>', '    SetHandler jumio-erase', '</Location>',
    '<Location /jumio/intake-auth>', '    SetHandler jumio-intake', '    JumioWorkflowKey 9',
    '</Location>';

# An extra httpd on the suite's MariaDB and this file's fake, with erase and workflow 9.
sub node {
    my ($name, %o) = @_;
    my $conf = join "\n", $MORE, grep { defined } delete $o{conf};
    return extra_httpd(name => $name, fake => $fake->url('/fake'), loglevel => 'notice',
                       conf => $conf, db => 'main', %o);
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

subtest 'transaction row locked by another session (SELECT ... FOR UPDATE): callback 503 within 3 s, nothing stored' => sub {
    fake_reset();
    my $t = start_tx(base => $L->base, tag => 'rowlock');
    my $ua = LWP::UserAgent->new(timeout => 10, keep_alive => 0, max_redirect => 0);
    my $marker = "rowlock-$RUN";
    my $dbh = JumioTest::db_connect();
    $dbh->begin_work;
    $dbh->selectall_arrayref('SELECT workflow_id FROM jumio_transactions WHERE workflow_id = ? FOR UPDATE',
                             undef, $t->{ref});
    my ($res, $secs) = timed(sub { send_callback($t, 'ACQUIRED', marker => $marker, ua => $ua) });
    $dbh->rollback;
    is_error($res, 503, 'unavailable', 'callback');
    cmp_ok($secs, '<', 3, sprintf('callback answered in %.1f s (< 3 s)', $secs));
    sleep 1;    # whatever the module still had in hand lands now
    is(count_rows($L, 'SELECT id FROM jumio_callbacks WHERE body LIKE ?', "%$marker%"), 0, 'nothing stored');
    is(tx_row($t, $L)->{status}, 'INITIATED', 'status unchanged');
    $dbh->disconnect;
};

subtest 'callbacks table locked by another session (LOCK TABLES ... WRITE): callback 503 within 3 s, nothing stored' => sub {
    fake_reset();
    my $t = start_tx(base => $L->base, tag => 'tablelock');
    my $ua = LWP::UserAgent->new(timeout => 10, keep_alive => 0, max_redirect => 0);
    my $marker = "tablelock-$RUN";
    my $dbh = JumioTest::db_connect();
    $dbh->do('LOCK TABLES jumio_callbacks WRITE');
    my ($res, $secs) = timed(sub { send_callback($t, 'ACQUIRED', marker => $marker, ua => $ua) });
    $dbh->do('UNLOCK TABLES');
    is_error($res, 503, 'unavailable', 'callback');
    cmp_ok($secs, '<', 3, sprintf('callback answered in %.1f s (< 3 s)', $secs));
    sleep 1;    # whatever the module still had in hand lands now
    is(count_rows($L, 'SELECT id FROM jumio_callbacks WHERE body LIKE ?', "%$marker%"), 0, 'nothing stored');
    is(tx_row($t, $L)->{status}, 'INITIATED', 'status unchanged');
    $dbh->disconnect;
    is_deeply([ map { $_->crashes } $A, $B, $L ], [], 'no crash in the nodes\' error_logs');
};

$A->stop;
$L->stop;
$B->stop;
$fake->stop;
