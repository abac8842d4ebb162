# Schema versions and the migration from version 1 (the schema before jumio_schema existed) to
# the current version (3): a version-1 database (t/fixtures/schema-v1.sqlite.sql / schema-v1.mysql.sql, made
# by t/fixtures/make-v1 with the module of that time) is upgraded on the first database use,
# once, under the lock of the jumio_schema row, even when several nodes start together; every
# row stays intact, jumio_account_ids holds every (user, account) pair, on MariaDB the id
# columns become VARBINARY (byte-exact user ids).  A fresh database is created at the current version (3); a
# database newer than the module is refused (503 unavailable).
# SQLite always; the MariaDB cases in the MariaDB pass (-defines JUMIO_MYSQL) when the test
# server's MariaDB directory is known (JUMIO_TEST_MARIADB_DIR: a database per case, made as
# root over its socket).
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use lib 't/lib';
use DBI ();
use Fcntl qw(:flock);
use File::Path qw(make_path remove_tree);
use JumioTest;
use JumioTest::Httpd;
use JumioTest::Kit;
use FakeJumio::State ();

my $T        = Apache::Test::vars('serverroot');
my $FIXTURES = "$T/fixtures";
my $WORK     = Apache::Test::vars('t_logs') . '/migrate';
my $MDB_DIR  = $ENV{JUMIO_TEST_MARIADB_DIR};
my @KINDS    = ('sqlite', (JumioTest::db_is_mysql() && $MDB_DIR ? 'mysql' : ()));
my %KEY = (jumio_accounts => 'user_id', jumio_transactions => 'workflow_id', jumio_callbacks => 'id');
my $VERSION  = 3;    # the schema version of this module
my $UPGRADED = qr/database schema upgraded from version 1 to $VERSION/;
my $CREATED  = qr/database schema created at version $VERSION/;
my $NEWER    = qr/schema version 99 is newer than this module supports/;

# The fixture's transactions by role, and every (user, account) pair it holds (of
# jumio_accounts and jumio_transactions: what jumio_account_ids must hold after the upgrade),
# from its rows (fixture_facts, when the first fixture is loaded).
my (%FIX, %FIX_ACCOUNTS, @PAIRS);
my $SQLITE_ROWS;    # the SQLite fixture's rows, which the MariaDB one must equal

sub fixture_facts {
    my ($snap) = @_;
    my @tx = values %{ $snap->{jumio_transactions} };
    my $one = sub {
        my ($user, $cond) = @_;
        my @t = grep { $_->{user_id} eq $user && $cond->($_) } @tx;
        return @t == 1 ? $t[0]{workflow_id} : die "fixture: not one such transaction of $user\n";
    };
    %FIX = (alice_initiated => $one->('fixture-alice', sub { $_[0]{status} eq 'INITIATED' }),
            alice_acquired  => $one->('fixture-alice', sub { $_[0]{status} eq 'ACQUIRED' }),
            bob_processed   => $one->('fixture-bob', sub { $_[0]{status} eq 'PROCESSED' && $_[0]{details} }),
            carol_auth      => $one->('fixture-carol', sub { $_[0]{workflow_key} == 9 }));
    my %pairs = map { ("$_->{user_id} $_->{account_id}" => 1) } @tx, values %{ $snap->{jumio_accounts} };
    @PAIRS = sort keys %pairs;
    %FIX_ACCOUNTS = ();
    push @{ $FIX_ACCOUNTS{ (split / /)[0] } }, (split / /)[1] for @PAIRS;
}

# MariaDB: the id columns that must be VARBINARY at version 2.
my @ID_COLUMNS = qw(
    jumio_accounts.user_id jumio_accounts.account_id
    jumio_transactions.workflow_id jumio_transactions.account_id jumio_transactions.user_id
    jumio_transactions.cir jumio_transactions.callback_token jumio_callbacks.workflow_id
    jumio_account_ids.user_id jumio_account_ids.account_id jumio_account_claims.user_id
);

remove_tree($WORK);
make_path($WORK);

# ======================================================================
# databases
# ======================================================================

# A new empty database for case $tag: {kind, driver, params, name, httpd => [options of
# extra_httpd]}.  SQLite: a file in $WORK; MariaDB: database jumio_mig_<tag>, made as root.
sub new_db {
    my ($kind, $tag) = @_;
    if ($kind eq 'sqlite') {
        my $file = "$WORK/$tag.db";
        unlink $file, "$file-wal", "$file-shm";
        return { kind => $kind, driver => 'sqlite3', params => $file, httpd => [db => $file] };
    }
    my $name = "jumio_mig_$tag";
    $name =~ s/\W/_/g;
    mariadb_root("DROP DATABASE IF EXISTS $name; CREATE DATABASE $name CHARACTER SET utf8mb4; "
                 . "GRANT ALL ON $name.* TO 'jumio'\@'127.0.0.1'");
    (my $params = $ENV{JUMIO_TEST_MYSQL}) =~ s/\bdbname=\S+/dbname=$name/;
    return { kind => $kind, driver => 'mysql', params => $params, name => $name,
             httpd => [dbd_driver => 'mysql', dbd_params => $params] };
}

# SQL as MariaDB's root (over the socket of the test server's MariaDB, t/db/mariadb).
sub mariadb_root {
    my ($sql) = @_;
    system('mariadb', '--no-defaults', '-uroot', "--socket=$MDB_DIR/mariadb.sock", '-e', $sql) == 0
        or die "mariadb as root: $sql: failed\n";
}

# A new database holding the version-1 fixture.
sub v1_db {
    my ($kind, $tag) = @_;
    my $db = new_db($kind, $tag);
    if ($kind eq 'sqlite') {
        my $dbh = DBI->connect("dbi:SQLite:dbname=$db->{params}", '', '',
                               { RaiseError => 1, PrintError => 0, sqlite_allow_multiple_statements => 1 });
        $dbh->do(slurp("$FIXTURES/schema-v1.sqlite.sql"));
        $dbh->disconnect;
    }
    else {
        my %p = map { split /=/, $_, 2 } split ' ', $db->{params};
        system('mariadb', '--no-defaults', "-h$p{host}", "-P$p{port}", "-u$p{user}", "-p$p{pass}",
               $db->{name}, '-e', "source $FIXTURES/schema-v1.mysql.sql") == 0
            or die "loading schema-v1.mysql.sql into $db->{name} failed\n";
    }
    return $db;
}

sub slurp {
    my ($file) = @_;
    open(my $fh, '<', $file) or die "$file: $!\n";
    local $/;
    return scalar <$fh>;
}

sub dbh_of { my ($db) = @_; return JumioTest::db_connect($db->{driver}, $db->{params}) }

# Rows of $sql on $db (hashrefs); an absent table gives none.
sub db_select {
    my ($db, $sql, @bind) = @_;
    return JumioTest::select_rows({ driver => $db->{driver}, params => $db->{params}, absent_ok => 1 },
                                  $sql, @bind);
}

# Every row of the version-1 tables: {table => {key => row}}.
sub snapshot {
    my ($db) = @_;
    return { map {
        my $t = $_;
        ($t => { map { ($_->{ $KEY{$t} } => $_) } db_select($db, "SELECT * FROM $t") });
    } sort keys %KEY };
}

# The rows of $after with the keys and columns of $before (rows added since and columns a
# migration added, such as jumio_transactions.callbacks, are not compared).
sub same_keys {
    my ($before, $after) = @_;
    return { map {
        my $t = $_;
        ($t => { map {
            my ($k, $row) = ($_, $after->{$t}{$_});
            ($k => $row && { map { ($_ => $row->{$_}) } keys %{ $before->{$t}{$k} } });
        } keys %{ $before->{$t} } });
    } keys %$before };
}

# The fixture's rows are all there and unchanged.
sub rows_intact {
    my ($db, $before, $name) = @_;
    is_deeply(same_keys($before, snapshot($db)), $before,
              "$name: every fixture row of jumio_accounts, jumio_transactions, jumio_callbacks intact");
}

sub schema_rows { [ db_select($_[0], 'SELECT id, version FROM jumio_schema') ] }

# "user account" pairs of jumio_account_ids (of the fixture's users unless all => 1).
sub account_pairs {
    my ($db, %o) = @_;
    return [ sort map { "$_->{user_id} $_->{account_id}" }
             grep { $o{all} || $_->{user_id} =~ /\Afixture-/ }
             db_select($db, 'SELECT user_id, account_id FROM jumio_account_ids') ];
}

# 1 when the table exists (a SELECT on it works).
sub has_table {
    my ($db, $table) = @_;
    my $ok = eval { my $dbh = dbh_of($db); $dbh->selectall_arrayref("SELECT * FROM $table"); $dbh->disconnect; 1 };
    return $ok ? 1 : 0;
}

# MariaDB: {"table.column" => DATA_TYPE} of the id columns.
sub id_column_types {
    my ($db) = @_;
    my %type = map { ("$_->{TABLE_NAME}.$_->{COLUMN_NAME}" => lc $_->{DATA_TYPE}) }
        db_select($db, 'SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS '
                       . 'WHERE TABLE_SCHEMA = DATABASE()');
    return { map { ($_ => $type{$_} // 'absent') } @ID_COLUMNS };
}

# ======================================================================
# the fake Jumio and the servers
# ======================================================================

# The fake Jumio learns the fixture's accounts and workflows (its state of the time the
# fixture was made is gone): PUTs on the accounts, status calls and deletions then succeed.
sub seed_fake {
    my ($snap) = @_;
    fake_reset();
    my $s = FakeJumio::State->new(fake_dir());
    $s->locked(LOCK_EX, sub {
        my %acc;
        for my $a (values %{ $snap->{jumio_accounts} }) {
            $acc{ $a->{account_id} } = { id => $a->{account_id}, workflows => [], created_at => $a->{created_at},
                                         credentials => $JSON->decode($a->{credentials} // '[]') };
        }
        for my $t (sort { $a->{created_at} <=> $b->{created_at} } values %{ $snap->{jumio_transactions} }) {
            my $acc = $acc{ $t->{account_id} } //= { id => $t->{account_id}, workflows => [], credentials => [] };
            push @{ $acc->{workflows} }, $t->{workflow_id};
            $s->save_workflow($t->{workflow_id}, {
                id => $t->{workflow_id}, account_id => $t->{account_id}, status => $t->{status},
                definitionKey => "$t->{workflow_key}", details => undef, credentials => [],
                customerInternalReference => $t->{cir}, userReference => $t->{user_id},
                created_at => $t->{created_at} });
        }
        $s->save_account($_->{id}, $_) for values %acc;
    });
}

our $FAKE; # this file's fake Jumio (made below, before any test)

# An extra httpd (not started with no_start => 1) on $db and this file's fake, with an erase
# location.
sub node {
    my ($db, $name, %o) = @_;
    return extra_httpd(name => $name, fake => $FAKE->url('/fake'), loglevel => 'debug', @{ $db->{httpd} }, %o,
                       conf => "<Location /jumio/erase>\n    SetHandler jumio-erase\n</Location>\n");
}

# Lines of the nodes' error logs matching $re.
sub log_lines {
    my ($re, @nodes) = @_;
    return grep { $_ =~ $re } map { split /\n/, $_->error_log_text } @nodes;
}

# A fixture transaction as start_tx gives it (for poll_tx, send_callback) on $h.
sub fix_tx {
    my ($snap, $ref, $h) = @_;
    my $row = $snap->{jumio_transactions}{$ref} || {};
    return { ref => $ref, user => $row->{user_id}, account => $row->{account_id},
             token => $row->{callback_token}, base => $h->base };
}

# The account calls (POST, PUT) the fake recorded after the first $n.
sub calls_since {
    my ($n) = @_;
    my @c = account_calls();
    return @c[$n .. $#c];
}

# ======================================================================
# the cases
# ======================================================================

plan tests => 5 * @KINDS, need_module('mod_perl.c');

# A fake Jumio of its own: three nodes' children keep keep-alive connections to it, which the
# test server's fake (12 prefork children, 5 s keep-alive) cannot all serve at once; the
# helpers (fake_requests, seeding) follow JUMIO_FAKE_DIR.
$FAKE = JumioTest::Httpd->new(name => 'mig-fake', logs => Apache::Test::vars('t_logs'),
                                 t_dir => Apache::Test::vars('serverroot'), with_fake => 1,
                                 no_jumio => 1, workers => 32, start_servers => 24,
                                 loglevel => 'warn', conf => 'KeepAliveTimeout 1');
$ENV{JUMIO_FAKE_DIR} = $FAKE->fake_dir;

for my $kind (@KINDS) {
    my $upgraded_db;

    subtest "$kind: a version-1 database is upgraded to version 3 on the first request" => sub {
        my $db = v1_db($kind, "$kind-up");
        my $before = snapshot($db);
        is(scalar keys %{ $before->{jumio_transactions} }, 7, 'fixture loaded: 7 transactions');
        fixture_facts($before);
        is(scalar @PAIRS, 5, 'fixture: 5 (user, account) pairs');
        is(scalar @{ $FIX_ACCOUNTS{'fixture-erin'} || [] }, 2, 'fixture: fixture-erin has two accounts');
        if ($kind eq 'sqlite') { $SQLITE_ROWS = $before }
        else { is_deeply($before, $SQLITE_ROWS, 'the MariaDB fixture holds the rows of the SQLite one') }
        is_deeply(schema_rows($db), [], 'fixture: no jumio_schema (version 1)');
        seed_fake($before);
        my $h = node($db, "mig-$kind-up");

        my $bob = fix_tx($before, $FIX{bob_processed}, $h);
        my $d = poll_answer($bob, 'first request: poll of the PROCESSED fixture transaction');
        is_deeply([@{ $d || {} }{qw(done status decision)}], [JSON::PP::true(), 'PROCESSED', 'PASSED'],
                  'it answers its stored decision');
        is_deeply(schema_rows($db), [{ id => 1, version => $VERSION }], 'jumio_schema: one row, version 3');
        rows_intact($db, $before, 'after the upgrade');
        is_deeply(account_pairs($db, all => 1), \@PAIRS,
                  'jumio_account_ids: every (user, account) of jumio_accounts and jumio_transactions');
        ok(has_table($db, 'jumio_account_claims'), 'jumio_account_claims exists');
        ok(has_table($db, 'jumio_notifications'), 'jumio_notifications exists (version 3)');
        my %final = map { ($_->{workflow_id} => $_->{final_at}) }
            db_select($db, 'SELECT workflow_id, final_at, updated_at FROM jumio_transactions');
        is($final{ $FIX{bob_processed} }, $before->{jumio_transactions}{ $FIX{bob_processed} }{updated_at},
           'version 3: a PROCESSED transaction with details is final since its last update');
        is($final{ $FIX{alice_initiated} }, 0, 'version 3: an INITIATED one is not final');
        my @up = log_lines($UPGRADED, $h);
        is(scalar @up, 1, 'one "upgraded from version 1 to 3" line') or diag(join "\n", @up);
        like($up[0] // '', qr/\[[\w.]*:notice\]/, 'logged at notice level');
        is(scalar(log_lines($CREATED, $h)), 0, 'no "created" line');
        if ($kind eq 'mysql') {
            is_deeply(id_column_types($db), { map { ($_ => 'varbinary') } @ID_COLUMNS },
                      'MariaDB: every id column is VARBINARY');
        }

        my $p = poll_answer(fix_tx($before, $FIX{alice_initiated}, $h), 'poll of an INITIATED fixture transaction');
        is_deeply($p, { done => JSON::PP::false(), transactionReference => $FIX{alice_initiated},
                        status => 'INITIATED' }, 'still INITIATED, not done');
        my $auth = poll_answer(fix_tx($before, $FIX{carol_auth}, $h), 'poll of the workflow 9 transaction');
        is(($auth || {})->{status}, 'INITIATED', 'workflow 9 transaction: INITIATED');
        my $cb = send_callback(fix_tx($before, $FIX{alice_initiated}, $h), 'ACQUIRED');
        is($cb->code, 200, "a callback signed with a fixture transaction's stored token: 200")
            or diag($cb->as_string);
        is(tx_row($FIX{alice_initiated}, $h)->{status}, 'ACQUIRED', 'its status moved on');

        # user ids are byte-exact: no case folding, no trailing-space padding
        my $alice_acc = $FIX_ACCOUNTS{'fixture-alice'}[0];
        for my $variant ('FIXTURE-ALICE', 'fixture-alice ') {
            my $n = account_calls();
            my $t = start_tx(user => $variant, base => $h->base, name => "intake for '$variant'");
            is_deeply(call_names(calls_since($n)), ['POST /fake/account/api/v1/accounts'],
                      "'$variant': a new account at Jumio (POST), not a PUT on fixture-alice's");
            isnt($t->{account} // '', $alice_acc, "'$variant': another account than fixture-alice's");
            is_deeply([ map { $_->{user_id} } db_select($db, 'SELECT user_id FROM jumio_transactions WHERE workflow_id = ?',
                                                        $t->{ref}) ],
                      [$variant], "'$variant': its transaction stored under its own user id");
        }
        is_deeply([ map { $_->{account_id} } db_select($db, "SELECT account_id FROM jumio_accounts WHERE user_id = 'fixture-alice'") ],
                  [$alice_acc], "fixture-alice's account mapping unchanged");
        my $n = account_calls();
        start_tx(user => 'fixture-alice', base => $h->base, name => 'intake for fixture-alice');
        is_deeply(call_names(calls_since($n)),
                  ["PUT /fake/account/api/v1/accounts/$alice_acc"], 'fixture-alice herself: a PUT on her account');

        # erase: Jumio's Deletion API for bob's account(s), then his rows
        my $del = () = fake_requests('delete_account');
        my $res = request(DELETE => '/jumio/erase', user => 'fixture-bob', base => $h->base);
        is($res->code, 200, 'erase of fixture-bob: 200') or diag($res->as_string);
        is_deeply(json_of($res), { erased => JSON::PP::true(), transactions => 1 }, 'erase answer');
        my @del = fake_requests('delete_account');
        is_deeply([ sort map { $_->{path} } @del[$del .. $#del] ],
                  [ map { "/fake/retrieval/api/v1/accounts/$_" } sort @{ $FIX_ACCOUNTS{'fixture-bob'} } ],
                  "a DELETE for each of fixture-bob's accounts");
        is(count_rows($h, "SELECT workflow_id FROM jumio_transactions WHERE user_id = 'fixture-bob'"), 0,
           "fixture-bob's transactions gone");
        is(count_rows($h, "SELECT user_id FROM jumio_account_ids WHERE user_id = 'fixture-bob'"), 0,
           "fixture-bob's account ids gone");
        no_violations("$kind upgrade");
        is_deeply([$h->crashes], [], 'no crash');
        $h->stop;
        $upgraded_db = $db;
    };

    subtest "$kind: the background task upgrades too" => sub {
        my $db = v1_db($kind, "$kind-bg");
        seed_fake(snapshot($db));
        my $h = node($db, "mig-$kind-bg", background => 1);
        # the row appears (version 0) before the migration under its lock is done
        ok(wait_until(15, sub { grep { $_->{version} == $VERSION } @{ schema_rows($db) } }),
           'jumio_schema made and at version 3 without any request');
        is_deeply(schema_rows($db), [{ id => 1, version => $VERSION }], 'version 3');
        ok(wait_until(5, sub { scalar log_lines($UPGRADED, $h) }), '"upgraded" line logged');
        is(scalar(log_lines($UPGRADED, $h)), 1, 'exactly once');
        is_deeply(account_pairs($db), \@PAIRS, 'jumio_account_ids filled');
        is_deeply([$h->crashes], [], 'no crash');
        $h->stop;
    };

    subtest "$kind: three nodes starting together upgrade once" => sub {
        my $db = v1_db($kind, "$kind-multi");
        my $before = snapshot($db);
        seed_fake($before);
        my @nodes = map { node($db, "mig-$kind-n$_", no_start => 1, workers => 8) } 1 .. 3;
        $_->start for @nodes;
        my $bob_ref = $FIX{bob_processed};
        # 12 clients, 4 per node, each: 3 polls of bob's PROCESSED transaction (200, done,
        # PASSED), a poll of an unknown reference (404), an intake of a new user (200)
        my @rc = in_parallel(12, sub {
            my ($i) = @_;
            my $base = $nodes[$i % 3]->base;
            my @bad;
            for my $k (1 .. 3) {
                my $res = poll($bob_ref, user => 'fixture-bob', base => $base);
                my $d = json_of($res) || {};
                push @bad, 'poll ' . $res->code . ' ' . substr($res->content, 0, 200)
                    unless $res->code == 200 && $d->{done} && ($d->{decision} // '') eq 'PASSED';
            }
            my $res = poll(uuid_v4(), user => 'fixture-bob', base => $base);
            push @bad, 'unknown poll ' . $res->code unless $res->code == 404;
            $res = intake(user => "mig-multi-$RUN-$kind-$i", base => $base);
            push @bad, 'intake ' . $res->code . ' ' . substr($res->content, 0, 200) unless $res->code == 200;
            print STDERR "# client $i: $_\n" for @bad;
            return scalar @bad;
        });
        is_deeply(\@rc, [(0) x 12], 'every request answered as expected (polls 200, unknown 404, intakes 200)');
        my @up = log_lines($UPGRADED, @nodes);
        is(scalar @up, 1, 'exactly one "upgraded" line across the three error logs') or diag(join "\n", @up);
        is(scalar(log_lines($CREATED, @nodes)), 0, 'no "created" line');
        is_deeply(schema_rows($db), [{ id => 1, version => $VERSION }], 'version 3');
        rows_intact($db, $before, 'three nodes');
        is_deeply(account_pairs($db), \@PAIRS, "jumio_account_ids: the fixture users' pairs");
        is(count_rows($nodes[0], 'SELECT user_id FROM jumio_accounts WHERE user_id LIKE ?', "mig-multi-$RUN-$kind-%"),
           12, 'the 12 intakes stored');
        is_deeply([map { $_->crashes } @nodes], [], 'no crash');
        $_->stop for @nodes;
    };

    subtest "$kind: a fresh database is created at version 3" => sub {
        my $db = new_db($kind, "$kind-fresh");
        fake_reset();
        my $h = node($db, "mig-$kind-fresh");
        is_error(poll(uuid_v4(), user => 'fresh-user', base => $h->base), 404, 'not_found',
                 'first request: poll of an unknown reference');
        is_deeply(schema_rows($db), [{ id => 1, version => $VERSION }], 'jumio_schema: one row, version 3');
        ok(has_table($db, $_), "$_ exists") for qw(jumio_accounts jumio_transactions jumio_callbacks
                                                    jumio_account_ids jumio_account_claims);
        is(scalar(log_lines($CREATED, $h)), 1, 'one "created at version 3" line');
        is(scalar(log_lines($UPGRADED, $h)), 0, 'no "upgraded" line');
        if ($kind eq 'mysql') {
            is_deeply(id_column_types($db), { map { ($_ => 'varbinary') } @ID_COLUMNS },
                      'MariaDB: every id column is VARBINARY');
        }
        my $user = new_user('fresh');
        my $t = start_tx(user => $user, base => $h->base, calls => 1);
        is_deeply(account_pairs($db, all => 1), ["$user " . ($t->{account} // '?')],
                  'an intake records its (user, account) in jumio_account_ids');
        $h->stop;
    };

    subtest "$kind: a database of a newer schema version is refused" => sub {
        my $db = $upgraded_db or return fail('no upgraded database (first case failed)');
        my $before = snapshot($db);
        my $set = eval { my $dbh = dbh_of($db); $dbh->do('UPDATE jumio_schema SET version = 99 WHERE id = 1'); 1 };
        ok($set, 'version set to 99') or diag($@);
        fake_reset();
        my $h = node($db, "mig-$kind-newer");
        my $user = new_user('newer');
        my $calls = account_calls();
        is_error(poll($FIX{alice_acquired}, user => 'fixture-alice', base => $h->base), 503, 'unavailable', 'poll');
        is_error(intake(user => $user, base => $h->base), 503, 'unavailable', 'intake');
        is(scalar(account_calls()), $calls, 'intake: nothing sent to Jumio');
        ok(scalar(log_lines($NEWER, $h)), 'error_log: "schema version 99 is newer than this module supports"');
        is(scalar(log_lines($UPGRADED, $h)), 0, 'no upgrade attempted');
        is_deeply(schema_rows($db), [{ id => 1, version => 99 }], 'version still 99');
        rows_intact($db, $before, 'newer version');
        is_deeply([db_select($db, 'SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', $user)], [],
                  'nothing stored');
        $h->stop;
    };
}
