# Intake cost (docs/DESIGN.md "Intake cost"): a still valid INITIATED transaction of the same
# settings is answered again without calling Jumio (JumioIntakeReuse, default on), and
# JumioIntakeLimit caps new transactions per user and period (429 too_many_requests with
# Retry-After), counted in the database so that nodes share it.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

plan tests => 11, need_module('mod_perl.c');

# An intake of $user at $path; (response, its JSON or {}).
sub take {
    my ($user, $path, %o) = @_;
    my $res = JumioTest::intake(user => $user, path => $path, %o);
    return ($res, json_of($res) || {});
}

# The account calls the fake saw since $before (a count from account_calls()).
sub calls_since { scalar(account_calls()) - $_[0] }

subtest 'a second intake within the lifetime gets the same transaction, no Jumio call' => sub {
    my $u = new_user('reuse');
    my ($r1, $a1) = take($u, '/jumio/intake-reuse');
    is($r1->code, 200, 'first intake 200');
    ok(!exists $a1->{reused}, 'a new transaction is not marked reused');
    my $before = account_calls();
    my ($r2, $a2) = take($u, '/jumio/intake-reuse');
    is($r2->code, 200, 'second intake 200');
    is($a2->{reused}, JSON::PP::true, '"reused": true');
    is($a2->{transactionReference}, $a1->{transactionReference}, 'same reference');
    is($a2->{link}, $a1->{link}, 'same link');
    is($a2->{timestamp}, $a1->{timestamp}, 'same timestamp');
    is(calls_since($before), 0, 'no Jumio call');
    is(tx_count($u), 1, 'one transaction stored');
};

subtest 'no reuse once the link is too old (stored time moved)' => sub {
    my $u = new_user('old');
    my ($r1, $a1) = take($u, '/jumio/intake-reuse');
    my $dbh = JumioTest::db_connect();
    $dbh->do('UPDATE jumio_transactions SET reuse_until = ? WHERE workflow_id = ?', undef,
             time - 1, $a1->{transactionReference});
    my $before = account_calls();
    my ($r2, $a2) = take($u, '/jumio/intake-reuse');
    is($r2->code, 200, 'HTTP 200');
    isnt($a2->{transactionReference}, $a1->{transactionReference}, 'a new transaction');
    ok(!$a2->{reused}, 'not reused');
    is(calls_since($before), 1, 'one Jumio call');
    my $row = tx_row($a2->{transactionReference});
    my $lifetime = 30 * 60;    # JumioTokenLifetime default
    cmp_ok(abs($row->{reuse_until} - ($row->{created_at} + $lifetime - 300)), '<=', 1,
           'reusable until created + lifetime - 5 min');
};

subtest 'no reuse once the transaction moved on (ACQUIRED)' => sub {
    my $u = new_user('moved');
    my $t = start_tx(user => $u, path => '/jumio/intake-reuse');
    callback_ok($t, 'ACQUIRED');
    my $before = account_calls();
    my ($r2, $a2) = take($u, '/jumio/intake-reuse');
    is($r2->code, 200, 'HTTP 200');
    isnt($a2->{transactionReference}, $t->{ref}, 'a new transaction');
    is(calls_since($before), 1, 'one Jumio call');
};

subtest 'no reuse across settings (another workflow key) nor with JumioIntakeReuse off' => sub {
    my $u = new_user('other');
    my ($r1, $a1) = take($u, '/jumio/intake-reuse');
    my $before = account_calls();
    my ($r2, $a2) = take($u, '/jumio/intake-reuse-other');
    is($r2->code, 200, 'other workflow key: 200');
    isnt($a2->{transactionReference}, $a1->{transactionReference}, 'other workflow key: new');
    is(calls_since($before), 1, 'other workflow key: one Jumio call');
    my ($r3, $a3) = take($u, '/jumio/intake');
    isnt($a3->{transactionReference}, $a1->{transactionReference}, 'reuse off: new');
    is(calls_since($before), 2, 'reuse off: one Jumio call');
};

subtest 'no reuse with another body callbackUrl' => sub {
    my $u = new_user('cburl');
    my ($r1, $a1) = take($u, '/jumio/intake');
    is($r1->code, 200, 'reuse-off location, first');
    my $cb = "http://127.0.0.1:$PORT/jumio/callback2";
    my ($r2, $a2) = take($u, '/jumio/intake-reuse');
    my ($r3, $a3) = take($u, '/jumio/intake-reuse', body => { callbackUrl => $cb });
    my ($r4, $a4) = take($u, '/jumio/intake-reuse', body => { callbackUrl => $cb });
    is($r3->code, 200, 'body callbackUrl: 200');
    isnt($a3->{transactionReference}, $a2->{transactionReference}, 'another callbackUrl: new');
    is($a4->{transactionReference}, $a3->{transactionReference}, 'same callbackUrl again: reused');
    is($a4->{reused}, JSON::PP::true, 'marked reused');
};

subtest '20 concurrent intakes of one user: one Jumio call, one transaction' => sub {
    my $u = new_user('burst');
    my $before = account_calls();
    my @r = in_parallel_results(20, sub {
        my ($res, $a) = take($u, '/jumio/intake-reuse');
        return ($res->code, $a->{transactionReference} // '', $a->{reused} ? 1 : 0);
    });
    is_deeply([grep { $_->[0] != 200 } @r], [], 'all 200');
    my %refs = map { ($_->[1] => 1) } @r;
    is(scalar(keys %refs), 1, 'one reference for all');
    is(scalar(grep { $_->[2] } @r), 19, '19 answers reused');
    is(calls_since($before), 1, 'one Jumio call');
    is(tx_count($u), 1, 'one transaction stored');
};

subtest 'JumioIntakeLimit 2 1h: the third new transaction is refused with Retry-After' => sub {
    my $u = new_user('quota');
    my ($r1) = take($u, '/jumio/intake-limit');
    my ($r2) = take($u, '/jumio/intake-limit');
    is($r1->code, 200, 'first 200');
    is($r2->code, 200, 'second 200');
    my $before = account_calls();
    my $t0 = time;
    my ($r3) = take($u, '/jumio/intake-limit');
    is_error($r3, 429, 'too_many_requests', 'third');
    my $first = (sort { $a <=> $b } map { $_->{created_at} }
                 rows('SELECT created_at FROM jumio_transactions WHERE user_id = ?', $u))[0];
    my $want = $first + 3600 - $t0;
    my $ra = $r3->header('Retry-After') // '';
    like($ra, qr/\A\d+\z/, 'Retry-After in seconds');
    cmp_ok(abs($ra - $want), '<=', 2, "Retry-After until the first leaves the hour ($want s)");
    is(calls_since($before), 0, 'nothing sent to Jumio');
    is(tx_count($u), 2, 'nothing stored');
    my ($r4) = take(new_user('quota-other'), '/jumio/intake-limit');
    is($r4->code, 200, 'another user is not limited');
};

subtest 'reused answers do not count against the quota' => sub {
    my $u = new_user('quota-reuse');
    my ($r1, $a1) = take($u, '/jumio/intake-limit-reuse');
    my ($r2, $a2) = take($u, '/jumio/intake-limit-reuse');
    my ($r3, $a3) = take($u, '/jumio/intake-limit-reuse');
    is($r1->code, 200, 'first 200');
    is($r2->code, 200, 'second 200 (reused)');
    is($r3->code, 200, 'third 200 (reused)');
    is($a3->{reused}, JSON::PP::true, 'reused');
    JumioTest::db_connect()->do('UPDATE jumio_transactions SET reuse_until = 0 WHERE user_id = ?',
                                undef, $u);
    my ($r4) = take($u, '/jumio/intake-limit-reuse');
    is_error($r4, 429, 'too_many_requests', 'a new one over the limit of 1');
};

subtest 'the quota is counted in the database: two nodes share it' => sub {
    plan skip_all => 'two nodes on MariaDB only (-defines JUMIO_MYSQL)' unless JumioTest::db_is_mysql();
    my $conf = join "\n", '<Location /jumio/intake-limit>', '    SetHandler jumio-intake',
        '    JumioWorkflowKey 3', '    JumioIntakeLimit 2 1h', '</Location>';
    my @n = map { JumioTest::extra_httpd(name => "cost-node$_", db => 'main', conf => $conf) } 1 .. 2;
    my $u = new_user('quota-nodes');
    is(JumioTest::intake(user => $u, path => '/jumio/intake-limit', base => $n[0]->base)->code, 200, 'node 1: 200');
    is(JumioTest::intake(user => $u, path => '/jumio/intake-limit', base => $n[1]->base)->code, 200, 'node 2: 200');
    is_error(JumioTest::intake(user => $u, path => '/jumio/intake-limit', base => $n[0]->base),
             429, 'too_many_requests', 'node 1 again');
    $_->stop for @n;
};

subtest "another request holding the user's claim past the wait: 503, nothing sent or stored" => sub {
    my $u = new_user('held');
    # a claim of another (live) request: held for a minute
    JumioTest::db_connect()->do('INSERT INTO jumio_account_claims (user_id, claim, claim_until) '
                                . 'VALUES (?, ?, ?)', undef, $u, 'other-request', time + 60);
    my $before = account_calls();
    my $t0 = time;
    my ($res) = take($u, '/jumio/intake');
    my $took = time - $t0;
    is_error($res, 503, 'unavailable', 'intake of a new user while the claim is held');
    cmp_ok($took, '<=', 3 * 3 + 5 + 3, 'waited no longer than a claim may be held (+3 s)');
    is(calls_since($before), 0, 'nothing sent to Jumio');
    is(tx_count($u), 0, 'nothing stored');
    is(count_rows('SELECT claim FROM jumio_account_claims WHERE user_id = ?', $u), 1,
       "the other request's claim is left alone");
};

subtest 'configuration: JumioIntakeLimit and JumioIntakeReuse values' => sub {
    my $row = tx_row((json_of(JumioTest::intake(user => new_user('cfg'), path => '/jumio/intake')) || {})->{transactionReference} // '');
    ok(!defined $row->{settings} || $row->{settings} eq '', 'reuse off: no settings fingerprint stored');
};
