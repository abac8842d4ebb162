# t/notify.t - signed result notifications (JumioNotifyURL): extra httpds with the background
# task on (JumioBackgroundInterval 1, JumioRetrievalSchedule 1 2 3, JumioNotifyRetry 1 1 2)
# POST every final result to a receiver (t/lib/FakeReceiver.pm at /hooks/<box> of the test
# server, or of an extra httpd of its own) signed as Standard Webhooks do, with two secrets
# (one whsec_); 4xx/5xx/timeouts and a receiver that is down are retried, a restart loses
# nothing, two nodes on one database deliver each result once, a notification older than 3
# days is failed and counted in jumio-status, an erase removes the user's notifications.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;
use FakeReceiver ();

use JSON::PP ();
use MIME::Base64 qw(encode_base64);

my @DB = db_is_mysql() ? (db => 'main') : ();
my $RDIR = FakeReceiver::dir(Apache::Test::vars('serverroot'));
my $SECRET1 = 'notify-secret-one-0123456789abcdef';
my $SECRET2 = 'whsec_' . encode_base64('0123456789abcdef0123456789abcdef', '');
my $ID_RE = qr/\Amsg_[0-9a-f-]{36}\z/;

# The receiver URL of a box on the test server.
sub box_url { "http://127.0.0.1:$PORT/hooks/$_[0]" }

# The extra httpds of the running subtest, stopped at its end (JumioTest::Httpd keeps them alive
# until END otherwise: on MariaDB every node shares the database, and a node left running would
# send the next subtests' notifications to its own box).
my @NODES;

# An extra httpd that notifies box $box (url => another receiver URL); %o goes to extra_httpd.
sub node {
    my ($name, %o) = @_;
    my $url = delete $o{url} // box_url(delete $o{box} // $name);
    my $more = delete $o{more} // '';
    FakeReceiver::reset_box($RDIR, $name);
    return node_of(extra_httpd(name => $name, background => 1, schedule => [1, 2, 3], @DB, %o,
                       conf => join("\n", "JumioNotifyURL $url", "JumioNotifySecret $SECRET1 $SECRET2",
                                    'JumioNotifyRetry 1 1 2', $more,
                                    '<Location /jumio/erase>', '    SetHandler jumio-erase', '</Location>',
                                    '<Location /jumio/status>', '    SetHandler jumio-status', '</Location>')));
}

# Remember an extra httpd of this subtest; returns it.
sub node_of { push @NODES, $_[0]; return $_[0] }

# The deliveries of a box for transaction $t (by the body's transactionReference).
sub deliveries_of {
    my ($box, $t) = @_;
    return grep { ((eval { $JSON->decode($_->{body}) } || {})->{transactionReference} // '') eq $t->{ref} }
        FakeReceiver::deliveries($RDIR, $box);
}

# The notification row of transaction $t on node $h.
sub note_row {
    my ($h, $t) = @_;
    return (rows($h, 'SELECT * FROM jumio_notifications WHERE workflow_id = ?', $t->{ref}))[0] || {};
}

# A transaction on node $h whose PROCESSED callback was acknowledged (details then fetched by
# the background task).
sub processed_on {
    my ($h, $tag) = @_;
    my $t = start_tx(base => $h->base, tag => $tag);
    JumioTest::fake_set_workflow($t->{ref}, status => 'PROCESSED');
    callback_ok($t, 'PROCESSED');
    return $t;
}

# Checks of one delivery as a receiver makes them: headers, both signatures, the body.
sub check_delivery {
    my ($d, $t, $name, %want) = @_;
    my $hd = $d->{headers} || {};
    is($d->{method}, 'POST', "$name: POST");
    like($hd->{'content-type'} // '', qr{\Aapplication/json\b}, "$name: Content-Type application/json");
    like($hd->{'webhook-id'} // '', $ID_RE, "$name: webhook-id msg_<reference>");
    like($hd->{'webhook-timestamp'} // '', qr/\A\d{10}\z/, "$name: webhook-timestamp in Unix seconds");
    ok(abs(($hd->{'webhook-timestamp'} // 0) - $d->{time}) < 60, "$name: timestamp is the sending time");
    my @sigs = FakeReceiver::signatures($d);
    is(scalar @sigs, 2, "$name: two v1 signatures (one per secret)")
        or diag("webhook-signature: " . ($hd->{'webhook-signature'} // 'none'));
    ok(FakeReceiver::verify($d, $SECRET1), "$name: signature with the first secret verifies");
    ok(FakeReceiver::verify($d, $SECRET2), "$name: signature with the whsec_ secret verifies");
    ok(!FakeReceiver::verify($d, 'another-secret-0123456789'), "$name: another secret does not verify");
    my $b = eval { $JSON->decode($d->{body}) } || {};
    is($b->{type}, 'verification.completed', "$name: type");
    is($b->{transactionReference}, $t->{ref}, "$name: transactionReference");
    is($b->{user}, $t->{user}, "$name: user");
    is($b->{workflowKey}, 3, "$name: workflowKey");
    is($b->{status}, $want{status}, "$name: status $want{status}");
    is($b->{decision}, $want{decision}, "$name: decision " . ($want{decision} // 'null'));
    like($b->{timestamp} // '', qr/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\z/, "$name: timestamp ISO 8601 UTC");
    return $b;
}

my @subtests;

push @subtests, ['a result and expiries are delivered once, signed with both secrets' => sub {
    JumioTest::fake_reset();
    my $h = node('nt_sign');
    my $t = processed_on($h, 'sign');
    my @d = @{ wait_until(20, sub { my @x = deliveries_of('nt_sign', $t); @x ? \@x : undef }) || [] };
    is(scalar @d, 1, 'PROCESSED: one delivery') or return;
    my $b = check_delivery($d[0], $t, 'PROCESSED', status => 'PROCESSED', decision => 'PASSED');
    is(ref $b->{data}, 'HASH', 'data: the decision-mode summary (JumioNotifyData decision)');
    is(ref(($b->{data} || {})->{capabilities}), 'HASH', 'data: capabilities');
    is($d[0]{headers}{'webhook-id'}, "msg_$t->{ref}", 'webhook-id is stable: msg_<reference>');

    # expiry by a callback, and by the Status API (no callback)
    my $e1 = start_tx(base => $h->base, tag => 'exp-cb');
    callback_ok($e1, 'TOKEN_EXPIRED');
    my $e2 = start_tx(base => $h->base, tag => 'exp-api');
    JumioTest::fake_set_workflow($e2->{ref}, status => 'SESSION_EXPIRED');
    for ([$e1, 'TOKEN_EXPIRED'], [$e2, 'SESSION_EXPIRED']) {
        my ($e, $st) = @$_;
        my @x = @{ wait_until(20, sub { my @x = deliveries_of('nt_sign', $e); @x ? \@x : undef }) || [] };
        is(scalar @x, 1, "$st: one delivery") or next;
        my $eb = check_delivery($x[0], $e, $st, status => $st, decision => undef);
        ok(exists $eb->{decision} && !defined $eb->{decision}, "$st: decision null");
        ok(!defined $eb->{data}, "$st: data null");
    }

    # nothing more: repeated callbacks and polls make no second notification
    callback_ok($t, 'PROCESSED');
    callback_ok($e1, 'TOKEN_EXPIRED');
    poll_tx($t);
    sleep 4;
    is(scalar(deliveries_of('nt_sign', $t)), 1, 'PROCESSED: still one delivery');
    is(scalar(deliveries_of('nt_sign', $e1)), 1, 'TOKEN_EXPIRED: still one delivery');
    is(count_rows($h, 'SELECT id FROM jumio_notifications WHERE workflow_id = ?', $_->{ref}), 1,
       "one notification row for $_->{ref}") for $t, $e1, $e2;
    my $row = note_row($h, $t);
    is($row->{state}, 'sent', 'row: state sent');
    is($row->{attempts}, 1, 'row: one attempt');
    ok($row->{done_at} > 0, 'row: done_at set');
    is($row->{last_status}, 200, 'row: last status 200');
    is_deeply([$h->crashes], [], 'no crash');
}];

push @subtests, ['4xx, 5xx and a timeout are retried until a 2xx ends it' => sub {
    JumioTest::fake_reset();
    my $h = node('nt_retry');
    FakeReceiver::set_rules($RDIR, 'nt_retry', { status => 500, times => 1 }, { status => 404, times => 1 },
                            { status => 200, delay => 6, times => 1 }, { status => 204 });
    my $t = processed_on($h, 'retry');
    my @d = @{ wait_until(60, sub { my @x = deliveries_of('nt_retry', $t);
                                    (grep { $_->{answer_status} == 204 } @x) ? \@x : undef }) || [] };
    is_deeply([map { $_->{answer_status} } @d], [500, 404, 200, 204],
              'delivered after 500, 404 and a hung answer (the timeout ended it)');
    is(scalar(keys %{ { map { ($_->{headers}{'webhook-id'} // '') => 1 } @d } }), 1, 'the same webhook-id each time');
    is(scalar(keys %{ { map { ($_->{body} // '') => 1 } @d } }), 1, 'the same body each time');
    ok(FakeReceiver::verify($_, $SECRET1) && FakeReceiver::verify($_, $SECRET2), 'each try signed')
        for @d;
    sleep 4;
    is(scalar(deliveries_of('nt_retry', $t)), 4, 'nothing after the 204');
    my $row = note_row($h, $t);
    is($row->{state}, 'sent', 'row: sent');
    is($row->{attempts}, 4, 'row: 4 attempts');
    is($row->{last_status}, 204, 'row: last status 204');
}];

push @subtests, ['receiver down, then up: delivered later, exactly once' => sub {
    JumioTest::fake_reset();
    my $r = node_of(extra_httpd(name => 'nt_rcv', with_fake => 1, no_jumio => 1,
                                conf => join("\n", FakeReceiver::conf_lines($RDIR))));
    FakeReceiver::reset_box($RDIR, 'nt_down');
    my $h = node('nt_down', url => $r->url('/hooks/nt_down'));
    $r->stop;
    my $t = processed_on($h, 'down');
    my $row = wait_until(30, sub { my $x = note_row($h, $t); ($x->{attempts} // 0) >= 2 ? $x : undef }) || {};
    ok(($row->{attempts} // 0) >= 2, 'tried at least twice while the receiver is down');
    is($row->{state}, 'pending', 'still pending');
    $r->start;
    my @d = @{ wait_until(30, sub { my @x = deliveries_of('nt_down', $t); @x ? \@x : undef }) || [] };
    sleep 3;
    @d = deliveries_of('nt_down', $t);
    is(scalar @d, 1, 'delivered exactly once once the receiver is up');
    is(($d[0] || {})->{headers}{'webhook-id'}, "msg_$t->{ref}", 'its id');
    is(note_row($h, $t)->{state}, 'sent', 'row: sent');
}];

push @subtests, ['httpd restarted with notifications pending: none lost' => sub {
    JumioTest::fake_reset();
    my $h = node('nt_restart');
    FakeReceiver::set_rules($RDIR, 'nt_restart', { status => 503 });
    my @tx = map { processed_on($h, "restart$_") } 1 .. 3;
    ok(wait_until(30, sub { !grep { (note_row($h, $_)->{attempts} // 0) < 1 } @tx }),
       'each notification tried once (503)');
    $h->kill_hard;
    FakeReceiver::set_rules($RDIR, 'nt_restart');
    $h->start;
    ok(wait_until(40, sub { !grep { !grep { $_->{answer_status} == 200 } deliveries_of('nt_restart', $_) } @tx }),
       'every notification delivered after the restart');
    for my $t (@tx) {
        is(scalar(grep { $_->{answer_status} == 200 } deliveries_of('nt_restart', $t)), 1,
           "$t->{ref}: one successful delivery");
        is(note_row($h, $t)->{state}, 'sent', "$t->{ref}: sent");
    }
}];

push @subtests, ['two nodes on one database: one delivery per transaction' => sub {
    JumioTest::fake_reset();
    my $a = node('nt_two_a', box => 'nt_two');
    my $b = node('nt_two_b', box => 'nt_two', ($a->db_path ? (db => $a->db_path) : ()));
    FakeReceiver::reset_box($RDIR, 'nt_two');
    my @tx = map { processed_on($_ % 2 ? $b : $a, "two$_") } 1 .. 8;
    ok(wait_until(40, sub { !grep { !deliveries_of('nt_two', $_) } @tx }), 'all 8 delivered');
    sleep 4;
    is(scalar(deliveries_of('nt_two', $_)), 1, "$_->{ref}: delivered once") for @tx;
    my %by = map { ($_->{claim_by} // '') => 1 } rows($a, 'SELECT claim_by FROM jumio_notifications');
    diag('sent by: ' . join(', ', sort keys %by));
    is_deeply([$a->crashes, $b->crashes], [], 'no crash');
}];

push @subtests, ['older than 3 days: failed, counted in jumio-status, not sent again' => sub {
    JumioTest::fake_reset();
    my $h = node('nt_old');
    FakeReceiver::set_rules($RDIR, 'nt_old', { status => 500 });
    my $t = processed_on($h, 'old');
    ok(wait_until(30, sub { (note_row($h, $t)->{attempts} // 0) >= 1 }), 'tried once');
    # counts before and after (on MariaDB the database is the suite's, shared with other runs)
    my $st = json_of(request(GET => '/jumio/status', base => $h->base)) || {};
    my ($pending, $failed) = @{ $st->{counters} || {} }{qw(notificationsPending notificationsFailed)};
    ok(($pending // 0) >= 1, "jumio-status: pending counted ($pending)");
    ok(defined $failed, "jumio-status: failed counted ($failed)");
    rows($h, 'UPDATE jumio_notifications SET created_at = created_at - 4 * 86400, next_at = 0 WHERE workflow_id = ?',
         $t->{ref});
    my $row = wait_until(30, sub { my $x = note_row($h, $t); ($x->{state} // '') eq 'failed' ? $x : undef }) || {};
    is($row->{state}, 'failed', 'state failed after one more try');
    is($row->{last_status}, 500, 'last status 500');
    $st = json_of(request(GET => '/jumio/status', base => $h->base)) || {};
    is($st->{counters}{notificationsFailed}, ($failed // 0) + 1, 'jumio-status: one more failed');
    is($st->{counters}{notificationsPending}, ($pending // 0) - 1, 'jumio-status: one less pending');
    my $prom = request(GET => '/jumio/status', base => $h->base, query => 'format=prometheus')->content;
    my $want = ($failed // 0) + 1;
    like($prom, qr/^jumio_notifications_failed $want$/m, "prometheus: jumio_notifications_failed $want");
    like($prom, qr/^# TYPE jumio_notifications_pending gauge$/m, 'prometheus: jumio_notifications_pending');
    my $n = deliveries_of('nt_old', $t);
    sleep 4;
    is(scalar(deliveries_of('nt_old', $t)), $n, 'a failed notification is not sent again');
}];

push @subtests, ['erase removes pending notifications' => sub {
    JumioTest::fake_reset();
    my $h = node('nt_erase');
    FakeReceiver::set_rules($RDIR, 'nt_erase', { status => 500 });
    my $t = processed_on($h, 'erase');
    ok(wait_until(30, sub { (note_row($h, $t)->{attempts} // 0) >= 1 }), 'pending, tried once');
    my $res = request(DELETE => '/jumio/erase', user => $t->{user}, base => $h->base);
    is($res->code, 200, 'erase: 200') or diag($res->as_string);
    is(count_rows($h, 'SELECT id FROM jumio_notifications WHERE user_id = ?', $t->{user}), 0,
       "no notification row of the user left");
    is_deeply([user_leftovers($h, $t->{user}, $t->{ref})], [], 'nothing of the user left');
    FakeReceiver::set_rules($RDIR, 'nt_erase');
    my $n = deliveries_of('nt_erase', $t);
    sleep 4;
    is(scalar(deliveries_of('nt_erase', $t)), $n, 'nothing sent after the erase');
}];

push @subtests, ['JumioNotifyData full and none' => sub {
    JumioTest::fake_reset();
    for my $mode (qw(full none)) {
        my $h = node("nt_data_$mode", more => "JumioNotifyData $mode");
        my $t = processed_on($h, "data$mode");
        my @d = @{ wait_until(20, sub { my @x = deliveries_of("nt_data_$mode", $t); @x ? \@x : undef }) || [] };
        my $b = eval { $JSON->decode(($d[0] || {})->{body}) } || {};
        is($b->{decision}, 'PASSED', "$mode: decision");
        if ($mode eq 'full') {
            is(ref(($b->{data} || {})->{workflow}), 'HASH', 'full: the details document as data');
        }
        else {
            ok(exists $b->{data} && !defined $b->{data}, 'none: data null');
        }
        $h->stop;    # on MariaDB it would also send the next node's notification
    }
}];

plan tests => scalar @subtests;
# On MariaDB the nodes share the suite's database, where earlier test files left hundreds of
# transactions whose checks are due and whose nodes are gone: this file's nodes would work
# through that backlog (a few rounds per hundred) before the notifications it waits for. Their
# due work is put aside, as if another node had done it (t/background.t tests the queue order).
if (db_is_mysql()) {
    rows('UPDATE jumio_transactions SET next_check_at = NULL WHERE status_rank < 2');
    rows("UPDATE jumio_transactions SET details_attempts = 10 WHERE status = 'PROCESSED' AND details IS NULL");
}
for my $s (@subtests) {
    subtest $s->[0] => $s->[1];
    $_->stop for splice @NODES;
}
