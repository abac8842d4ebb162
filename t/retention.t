# t/retention.t - JumioRetention (docs/DESIGN.md "Retention"): the background task of an extra
# httpd purges transactions final for longer than the retention (details and callback bodies
# gone, status, decision and times kept, so the poll still answers) and deletes their workflow
# execution at Jumio (DELETE .../accounts/<a>/workflow-executions/<w>), retried later when
# Jumio fails or times out until Jumio confirms (2xx, or 404: already gone).  Transactions are
# made final "long ago" by ageing final_at in the database.  Non-final and recent final ones
# are left alone; two nodes on one database delete each workflow once.  The MariaDB pass
# (-defines JUMIO_MYSQL) runs the same file on the suite's MariaDB.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

use JSON::PP ();
use Time::HiRes ();

use constant DAY => 86400;

# With MariaDB the extra servers share the suite's database.
my @DB = db_is_mysql() ? (db => 'main') : ();
my $h;

# The smallest JumioRetention anywhere applies: 30 days at server level, 1 day in a Location.
my $CONF = join "\n", 'JumioRetention 30', '<Location /jumio/poll-full>',
    '    SetHandler jumio-poll', '    JumioPollData full', '    JumioRetention 1', '</Location>';

# A transaction of the retention server made final with its details stored (an ACQUIRED and a
# PROCESSED callback, the details fetched by the background task); its poll answer in
# {poll} and its row in {row}.
sub final_tx {
    my ($tag, %o) = @_;
    my $t = start_tx(base => $o{base} // $h->base, tag => $tag);
    callback_ok($t, 'ACQUIRED');
    JumioTest::fake_set_workflow($t->{ref}, status => 'PROCESSED');
    callback_ok($t, 'PROCESSED');
    my $row = wait_until(10, sub { my $r = tx_row($t, $h); $r->{details} ? $r : undef }) || {};
    ok(defined $row->{details} && $row->{final_at} > 0, "$tag: final with details")
        or diag($JSON->encode($row));
    $t->{poll} = poll_answer($t, "$tag: poll before the purge");
    $t->{row} = $row;
    return $t;
}

# A transaction that expired (SESSION_EXPIRED callback): final without details.
sub expired_tx {
    my ($tag) = @_;
    my $t = start_tx(base => $h->base, tag => $tag);
    callback_ok($t, 'SESSION_EXPIRED');
    $t->{row} = tx_row($t, $h);
    ok($t->{row}{final_at} > 0, "$tag: expired is final");
    return $t;
}

# Move a transaction's final_at (and updated/created times) $secs into the past.
sub age {
    my ($t, $secs) = @_;
    rows($h, 'UPDATE jumio_transactions SET final_at = final_at - ?, updated_at = updated_at - ?, '
             . 'created_at = created_at - ? WHERE workflow_id = ?', $secs, $secs, $secs, $t->{ref});
    $t->{row} = tx_row($t, $h);
}

# The Deletion API calls the fake saw for transaction $t.
sub deletes {
    my ($t) = @_;
    return grep { ($_->{path} // '') =~ m{/workflow-executions/\Q$t->{ref}\E\z} && !stale_token($_) }
        JumioTest::fake_requests('delete_workflow');
}

# The stored callbacks of $t.
sub callbacks { rows($h, 'SELECT * FROM jumio_callbacks WHERE workflow_id = ? ORDER BY id', $_[0]{ref}) }

sub done_row { my $r = tx_row($_[0], $h); $r->{purged_at} && $r->{deleted_at} ? $r : undef }

# $t purged and deleted: stored row and what Jumio got, exactly.
sub purged_ok {
    my ($t, $name, %o) = @_;
    my $row = tx_row($t, $h);
    my $before = $t->{row};
    ok($row->{purged_at} > 0, "$name: purged_at set");
    ok($row->{deleted_at} > 0, "$name: deleted_at set (Jumio confirmed)");
    ok($row->{deleted_at} >= $row->{purged_at}, "$name: purged before deleted at Jumio");
    ok(!defined $row->{details}, "$name: details NULL");
    is($row->{$_}, $before->{$_}, "$name: $_ kept")
        for qw(status status_rank decision summary created_at updated_at final_at user_id account_id cir);
    my @cb = callbacks($t);
    is(scalar(@cb), $t->{callbacks}, "$name: callback rows kept ($t->{callbacks})");
    is_deeply([map { $_->{body} } @cb], [map { undef } @cb], "$name: callback bodies removed");
    ok(!(grep { !defined $_->{status} || !$_->{received_at} } @cb), "$name: callback status and time kept");
    my @d = deletes($t);
    is(scalar(@d), $o{deletes} // 1, "$name: Deletion API calls: " . ($o{deletes} // 1));
    is_deeply([map { $_->{path} } @d],
              [map { "/fake/retrieval/api/v1/accounts/$t->{account}/workflow-executions/$t->{ref}" } @d],
              "$name: DELETE of the transaction's account and workflow");
    is_deeply([map { $_->{method} } @d], [map { 'DELETE' } @d], "$name: method DELETE");
    is_deeply([map { @{ $_->{violations} || [] } } @d], [], "$name: valid requests");
    return $row;
}

# Rows of $t left as they were: nothing purged, nothing sent.
sub untouched_ok {
    my ($t, $name) = @_;
    my $row = tx_row($t, $h);
    is($row->{purged_at}, 0, "$name: not purged");
    is($row->{deleted_at}, 0, "$name: not deleted");
    is($row->{retention_attempts}, 0, "$name: no retention attempt");
    is($row->{details}, $t->{row}{details}, "$name: details as they were");
    my @cb = callbacks($t);
    ok(!(grep { !defined $_->{body} } @cb), "$name: callback bodies kept (" . scalar(@cb) . ')');
    is(scalar(deletes($t)), 0, "$name: nothing deleted at Jumio");
}

my @subtests;

push @subtests, ['final for longer than the retention: purged, deleted at Jumio once, poll still answers' => sub {
    JumioTest::fake_reset();
    my $p = final_tx('ret-processed');
    my $e = expired_tx('ret-expired');
    $p->{callbacks} = 2;
    $e->{callbacks} = 1;
    is(scalar(grep { defined $_->{body} } callbacks($p)), 2, 'processed: two callback bodies stored');
    my $details_calls = scalar(tx_calls($p, 'details'));
    # a delivered notification of the result (it holds the user id and the decision)
    rows($h, "INSERT INTO jumio_notifications (id, workflow_id, user_id, body, state, created_at) "
             . "VALUES (?, ?, ?, '{}', 'sent', 1)", "msg_$p->{ref}", $p->{ref}, $p->{user});
    is(scalar(rows($h, 'SELECT id FROM jumio_notifications WHERE workflow_id = ?', $p->{ref})), 1,
       'processed: a delivered notification stored');
    age($p, 2 * DAY);
    age($e, DAY + 60);
    ok(wait_until(15, sub { done_row($p) && done_row($e) }), 'both purged and deleted within 15 s');
    sleep 3;    # a few more rounds: nothing more happens
    purged_ok($p, 'processed');
    is(scalar(rows($h, 'SELECT id FROM jumio_notifications WHERE workflow_id = ?', $p->{ref})), 0,
       'processed: its delivered notification deleted');
    purged_ok($e, 'expired');
    is($_->{answer_status}, 200, 'Jumio answered 200') for deletes($p), deletes($e);
    ok(!JumioTest::fake_workflow($p->{ref}), 'the workflow is gone at Jumio');

    my $d = poll_answer($p, 'poll of the purged transaction');
    is_deeply($d, $p->{poll}, 'poll (decision data): the same answer as before the purge');
    ok($d->{done} && JSON::PP::is_bool($d->{done}), 'poll: done true');
    is($d->{status}, 'PROCESSED', 'poll: status PROCESSED');
    is($d->{decision}, 'PASSED', 'poll: decision PASSED');
    is(ref $d->{data}, 'HASH', 'poll: decision data kept');
    my $full = poll_answer($p, 'full poll of the purged transaction', path => '/jumio/poll-full');
    is_deeply($full, { done => JSON::PP::true, transactionReference => $p->{ref}, status => 'PROCESSED',
                       decision => 'PASSED', data => undef },
              'poll (JumioPollData full): done, decision, no data (the details are purged)');
    is_deeply(poll_answer($e, 'poll of the purged expired transaction'),
              { done => JSON::PP::true, transactionReference => $e->{ref}, status => 'SESSION_EXPIRED',
                decision => undef, data => undef }, 'expired: done, null decision and data');
    sleep 2;
    is(scalar(tx_calls($p, 'details')), $details_calls, 'no details fetched again after the purge');
    is(scalar(tx_calls($p, 'status')) + scalar(tx_calls($e, 'status')), 0, 'no Status API call');
    is(tx_row($p, $h)->{details}, undef, 'details still NULL after polls');
    like($h->error_log_text, qr/retention: purged \d+ transaction/, 'the purge is counted in the log');

    # a late callback (a replay of Jumio's) of the purged transaction: acknowledged, no body kept
    callback_ok($p, 'PROCESSED');
    my @cb = callbacks($p);
    is(scalar(@cb), 3, 'late callback: logged');
    is_deeply([map { $_->{body} } @cb], [undef, undef, undef], 'late callback: no body stored');
    is(tx_row($p, $h)->{status}, 'PROCESSED', 'late callback: status kept');
}];

push @subtests, ['not final, or final more recently than the retention: untouched' => sub {
    JumioTest::fake_reset();
    my $init = start_tx(base => $h->base, tag => 'ret-initiated');
    my $acq = start_tx(base => $h->base, tag => 'ret-acquired');
    callback_ok($acq, 'ACQUIRED');
    my $recent = final_tx('ret-recent');
    # PROCESSED, but its details cannot be fetched (Jumio answers 500): not final
    JumioTest::fake_control('details', { status => 500 });
    my $proc = start_tx(base => $h->base, tag => 'ret-nodetails');
    JumioTest::fake_set_workflow($proc->{ref}, status => 'PROCESSED');
    callback_ok($proc, 'PROCESSED');
    for my $t ($init, $acq, $proc) {
        $t->{row} = tx_row($t, $h);
        is($t->{row}{final_at}, 0, "$t->{user}: not final");
        age($t, 5 * DAY);    # created, updated long ago: still not final
    }
    age($recent, DAY - 600);    # final 23 h 50 min ago
    sleep 6;
    untouched_ok($init, 'INITIATED');
    untouched_ok($acq, 'ACQUIRED');
    untouched_ok($proc, 'PROCESSED without details');
    untouched_ok($recent, 'final 23 h 50 min ago');
    ok(defined tx_row($recent, $h)->{details}, 'recent: details kept');
    is(tx_row($acq, $h)->{status}, 'ACQUIRED', 'ACQUIRED kept');
    JumioTest::fake_control('details');
}];

push @subtests, ['Jumio fails (500, then a timeout): purged at once, deletion tried again later until confirmed' => sub {
    JumioTest::fake_reset();
    my $a = final_tx('ret-fail-a');
    my $b = final_tx('ret-fail-b');
    $_->{callbacks} = 2 for $a, $b;
    # first DELETE answered 500; the next one is carried out by Jumio but answered after the
    # module's JumioTimeout (3 s): the module sees a timeout, its retry then gets a 404
    JumioTest::fake_control('delete_workflow', { status => 500, times => 1 }, { delay => 5, times => 1 });
    age($a, 3 * DAY);
    age($b, 2 * DAY);
    ok(wait_until(20, sub { deletes($a) >= 1 && deletes($b) >= 1 }), 'both DELETEs tried');
    # the module gives up on the delayed one after JumioTimeout (3 s)
    wait_until(10, sub { !grep { !tx_row($_, $h)->{retention_attempts} } $a, $b });
    for my $t ($a, $b) {
        my $row = tx_row($t, $h);
        my $first = (deletes($t))[0] || { time => 0 };
        ok($row->{purged_at} > 0, "$t->{user}: purged although Jumio failed");
        ok(!defined $row->{details}, "$t->{user}: details NULL");
        is($row->{deleted_at}, 0, "$t->{user}: not confirmed yet");
        is($row->{retention_attempts}, 1, "$t->{user}: one failed attempt counted");
        ok($row->{retention_next_at} >= int($first->{time}) + 5,
           "$t->{user}: next try scheduled later (" . ($row->{retention_next_at} - int($first->{time})) . ' s)');
        is(scalar(deletes($t)), 1, "$t->{user}: not tried again at once");
    }
    my %first = map { ($_->{ref} => ((deletes($_))[0] || {})->{answer_status} // 0) } $a, $b;
    is_deeply([sort values %first], [200, 500], 'one answered 500, one 200 after the timeout');
    ok(wait_until(40, sub { done_row($a) && done_row($b) }), 'both confirmed later');
    sleep 2;
    for my $t ($a, $b) {
        my $row = purged_ok($t, "$t->{user} after the retry", deletes => 2);
        my @d = deletes($t);
        my $gap = (($d[1] || {})->{time} // 0) - (($d[0] || {})->{time} // 0);
        ok($gap >= 5, "$t->{user}: the retry came later (after $gap s)");
        is(($d[1] || {})->{answer_status}, $first{ $t->{ref} } == 500 ? 200 : 404,
           "$t->{user}: the retry answered " . ($first{ $t->{ref} } == 500 ? '200' : '404 (the timed-out DELETE was done)'));
    }
    my $d = poll_answer($a, 'poll after the retries');
    is_deeply($d, $a->{poll}, 'poll: the same answer as before the purge');
}];

push @subtests, ['404 from Jumio (already deleted) counts as confirmed' => sub {
    JumioTest::fake_reset();
    my $t = final_tx('ret-404');
    $t->{callbacks} = 2;
    JumioTest::fake_control('delete_workflow', { status => 404, times => 1 });
    age($t, 2 * DAY);
    ok(wait_until(15, sub { done_row($t) }), 'purged and confirmed');
    sleep 3;
    my $row = purged_ok($t, '404');
    is(((deletes($t))[0] || {})->{answer_status}, 404, 'Jumio answered 404');
    is($row->{retention_attempts}, 0, 'no failed attempt counted');
}];

push @subtests, ['two nodes on one database: each workflow deleted once' => sub {
    JumioTest::fake_reset();
    my $h2 = extra_httpd(name => 'ret2', background => 1, conf => $CONF,
                         ($h->db_path ? (db => $h->db_path) : @DB));
    my @tx = map { final_tx("ret-two$_", base => ($_ % 2 ? $h2->base : $h->base)) } 1 .. 6;
    $_->{callbacks} = 2 for @tx;
    age($_, 2 * DAY) for @tx;
    ok(wait_until(20, sub { !grep { !done_row($_) } @tx }), 'all purged and deleted');
    sleep 3;
    purged_ok($tx[$_], "tx $_") for 0 .. $#tx;
    is_deeply([$h2->crashes], [], 'node 2: no crash');
    $h2->stop;
}];

push @subtests, ['retention server: no crash, no secrets in its error log' => sub {
    my $log = $h->error_log_text;
    is_deeply([$h->crashes], [], 'no child crash');
    unlike($log, qr/test-secret-value/, 'client secret not logged');
}];

plan tests => scalar(@subtests), need_module('mod_perl.c');
$h = extra_httpd(name => 'ret', background => 1, conf => $CONF, @DB);
subtest $_->[0] => $_->[1] for @subtests;
$h->stop;
