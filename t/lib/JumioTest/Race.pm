package JumioTest::Race;

# The scenarios t/race.t (SQLite) and t/race_mariadb.t (MariaDB) share: a fake Jumio of the
# file's own, extra httpds on it with erase and workflow 9, simultaneous intakes of one new
# user, and user ids that differ only in case or a trailing space.  See t/README.md.

use strict;
use warnings;

use Exporter 'import';
use Fcntl qw(:flock);
use Time::HiRes ();

use Apache::Test ();
use Test::More ();
use FakeJumio::State ();
use JumioTest;
use JumioTest::Kit;
use JumioTest::Httpd ();

our @EXPORT = qw(race_fake fake_state node timed one_user_burst case_variants);

BEGIN { *is = \&Test::More::is; *isnt = \&Test::More::isnt; *ok = \&Test::More::ok;
        *is_deeply = \&Test::More::is_deeply; *diag = \&Test::More::diag; }

# The locations the extra httpds lack: erase, and authentication (workflow 9).
my $MORE = join "\n", '<Location /jumio/erase>', '    SetHandler jumio-erase', '</Location>',
    '<Location /jumio/intake-auth>', '    SetHandler jumio-intake', '    JumioWorkflowKey 9',
    '</Location>';

my ($FAKE, %NODE_DEFAULTS);

# Starts the file's fake Jumio ($name) and makes it the helpers' fake; %node_opts go to every node().
sub race_fake {
    my ($name, %node_opts) = @_;
    # enough workers for 20 delayed account calls at once (the test server's has 12); the
    # helpers (fake_requests, fake_control, start_tx ...) read its state
    $FAKE = JumioTest::Httpd->new(name => $name, logs => Apache::Test::vars('t_logs'),
                                  t_dir => Apache::Test::vars('serverroot'), with_fake => 1,
                                  no_jumio => 1, workers => 48, start_servers => 40,
                                  loglevel => 'warn',
                                  # idle keep-alive connections of the nodes' children would
                                  # each hold one of its (prefork) children for 5 s
                                  conf => 'KeepAliveTimeout 1');
    $ENV{JUMIO_FAKE_DIR} = $FAKE->fake_dir;
    %NODE_DEFAULTS = %node_opts;
    return $FAKE;
}

# The fake Jumio's state files (FakeJumio::State) of the helpers' fake.
sub fake_state { FakeJumio::State->new(JumioTest::fake_dir()) }

# An extra httpd on race_fake's fake, with erase and workflow 9; conf => more directives.
sub node {
    my ($name, %o) = @_;
    my $conf = join "\n", $MORE, grep { defined } delete $o{conf};
    return extra_httpd(name => $name, fake => $FAKE->url('/fake'), loglevel => 'notice',
                       conf => $conf, %NODE_DEFAULTS, %o);
}

# (what $code returns, seconds it took)
sub timed {
    my ($code) = @_;
    my $t0 = Time::HiRes::time();
    my $v = $code->();
    return ($v, Time::HiRes::time() - $t0);
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
    my $state = fake_state();
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
    ok($state->locked(LOCK_SH, sub { $state->account($t{carol}{account}) }),
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

1;
