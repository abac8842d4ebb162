# t/faults.t - Jumio faults on every call the module makes (docs/DESIGN.md "Error answers", README "Failure behaviour"): token,
# account update (PUT), status and details (through poll), and Jumio unreachable
# (connection refused, through extra httpd instances whose endpoint is a closed port).
# t/intake.t already covers account_create 4xx/5xx/garbage/429/timeout/401 and token
# 500/401/timeout; this file covers the rest.  Every case asserts the portal's answer, how
# many times Jumio was asked, and that nothing was stored.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;
use JumioTest::Httpd ();

use JSON::PP ();
use Time::HiRes ();

my $PROBLEM = '{"title":"Bad Request","status":400,"detail":"injected by t/faults.t"}';
my $BUSY = { status => 429, headers => { 'Retry-After' => '7' }, content_type => 'application/json',
             body => '{"title":"Too Many Requests","status":429,"detail":"Request limit exceeded"}' };

# Requests of an endpoint the fake recorded, without stale-token refusals (see Kit).
sub n_reqs { scalar(grep { !stale_token($_) } JumioTest::fake_requests(@_)) }
# A keep-alive client: a subtest's requests stay on one httpd child, whose token the first
# request refreshes if an earlier test revoked it.
sub ka { keep_alive_ua() }
sub acct_of { (rows('SELECT account_id FROM jumio_accounts WHERE user_id = ?', $_[0]))[0] || {} }

# The 429 answer: 503 upstream_busy with Jumio's Retry-After.
sub is_busy {
    my ($res, $name, $ra) = @_;
    is_error($res, 503, 'upstream_busy', $name);
    is($res->header('Retry-After'), $ra // '7', "$name: Retry-After " . ($ra // '7'));
}

# A poll that must answer 200 {done: false, status: $status}.
sub is_pending {
    my ($res, $t, $status, $name) = @_;
    is($res->code, 200, "$name: poll answers 200") or diag(substr($res->as_string, 0, 600));
    is_deeply(json_answer($res, $name),
              { done => JSON::PP::false, transactionReference => $t->{ref}, status => $status },
              "$name: done false, $status");
}

# A transaction on the test server, older than the first Status API step (40 s), whose
# workflow Jumio reports PROCESSED.
sub aged_tx {
    my ($tag, $ua) = @_;
    my $t = start_tx(tag => $tag, ua => $ua);
    JumioTest::fake_set_workflow($t->{ref}, status => 'PROCESSED');
    rows('UPDATE jumio_transactions SET created_at = created_at - 45 WHERE workflow_id = ?', $t->{ref});
    return $t;
}

sub timed { my $t0 = Time::HiRes::time(); my @r = $_[0]->(); (Time::HiRes::time() - $t0, @r) }

my @subtests;

# ---------------------------------------------------------------------------
# token endpoint (the module must fetch a token: every issued token is revoked first)
for my $c (
    [ 'token garbage 200 -> 502 upstream_error', { status => 200, body => '<html>oops</html>', content_type => 'text/html' },
      502, 'upstream_error' ],
    [ 'token 200 without access_token -> 502 upstream_error', { status => 200, body => { token_type => 'Bearer', expires_in => 3600 } },
      502, 'upstream_error' ],
    [ 'token 400 -> 502 upstream_rejected', { status => 400, body => '{"error":"invalid_request"}' }, 502, 'upstream_rejected' ],
    [ 'token 429 with Retry-After 7 -> 503 upstream_busy', $BUSY, 503, 'upstream_busy' ],
) {
    my ($name, $rule, $status, $code) = @$c;
    push @subtests, [$name => sub {
        JumioTest::fake_reset();
        # a child with a cached token must fetch a new one: its token is refused once
        JumioTest::fake_control('account_create', { status => 401, body => '{"title":"Unauthorized","status":401}', times => 1 });
        JumioTest::fake_control('token', $rule);
        my $user = new_user('tok');
        my $res = request(POST => '/jumio/intake', user => $user);
        $status == 503 ? is_busy($res, $name) : is_error($res, $status, $code, $name);
        ok(n_reqs('token') >= 1, "$name: the token endpoint was asked");
        JumioTest::fake_control('account_create');
        is(scalar(grep { $_->{answer_status} == 200 } JumioTest::fake_requests('account_create')), 0,
           "$name: no account created at Jumio");
        nothing_stored($user, $name);
        JumioTest::fake_control('token');
        my $ok = request(POST => '/jumio/intake', user => new_user('tokok'));
        is($ok->code, 200, "$name: the next intake (token endpoint healthy again) succeeds");
    }];
}

push @subtests, ['token 500 during a poll: done false, nothing stored, later poll succeeds' => sub {
    JumioTest::fake_reset();
    my $t = processed_tx(tag => 'tokpoll');
    JumioTest::fake_revoke_tokens();
    JumioTest::fake_control('token', { status => 500, body => 'down', content_type => 'text/plain' });
    my $before = n_reqs('token');
    is_pending(poll_tx($t), $t, 'PROCESSED', 'token 500');
    my $n = n_reqs('token') - $before;
    ok($n >= 1 && $n <= 3, "token asked 1..3 times (GET retried), got $n")
        or diag(join ', ', map { "$_->{endpoint} $_->{answer_status}" } JumioTest::fake_requests());
    ok(!defined tx_row($t)->{details}, 'no details stored');
    JumioTest::fake_control('token');
    my $d = json_of(poll_tx($t)) || {};
    ok($d->{done} && $d->{decision}, 'next poll: done with a decision');
}];

# ---------------------------------------------------------------------------
# account update (PUT /accounts/<id>): the user's second intake
for my $c (
    [ 'PUT 400 -> 502 upstream_rejected', { status => 400, body => $PROBLEM }, 502, 'upstream_rejected' ],
    [ 'PUT 403 -> 502 upstream_rejected', { status => 403, body => '{"message":"Forbidden","httpStatus":"403"}' }, 502, 'upstream_rejected' ],
    [ 'PUT garbage 200 -> 502 upstream_error', { status => 200, body => 'not json' }, 502, 'upstream_error' ],
    [ 'PUT 503 -> 502 upstream_error', { status => 503, body => 'maintenance', content_type => 'text/plain' }, 502, 'upstream_error' ],
    [ 'PUT 429 with Retry-After 7 -> 503 upstream_busy', $BUSY, 503, 'upstream_busy' ],
) {
    my ($name, $rule, $status, $code) = @$c;
    push @subtests, [$name => sub {
        JumioTest::fake_reset();
        my $user = new_user('put');
        my $ua = ka();
        start_tx(user => $user, ua => $ua);
        my $acct = acct_of($user)->{account_id};
        my $posts = n_reqs('account_create');
        JumioTest::fake_control('account_update', $rule);
        my $res = request(POST => '/jumio/intake', user => $user, ua => $ua);
        $status == 503 ? is_busy($res, $name) : is_error($res, $status, $code, $name);
        is(n_reqs('account_update'), 1, "$name: one PUT, not retried");
        is(n_reqs('account_create') - $posts, 0, "$name: no POST fallback");
        nothing_stored($user, $name, tx => 1, account => $acct);
    }];
}

push @subtests, ['PUT slower than JumioTimeout -> 504 upstream_timeout, never retried' => sub {
    JumioTest::fake_reset();
    my $user = new_user('putslow');
    my $ua = ka();
    start_tx(user => $user, ua => $ua);
    my $acct = acct_of($user)->{account_id};
    my $posts = n_reqs('account_create');
    JumioTest::fake_control('account_update', { delay => 5, times => 1 });
    my ($secs, $res) = timed(sub { request(POST => '/jumio/intake', user => $user, ua => $ua) });
    is_error($res, 504, 'upstream_timeout', 'PUT timeout');
    ok($secs < 4.9, sprintf('answered after the 3 s JumioTimeout (%.1f s)', $secs));
    # the fake records a request before its delay: a retry would already be there
    is(n_reqs('account_update'), 1, 'exactly one PUT: a timed-out PUT is not retried');
    is(n_reqs('account_create') - $posts, 0, 'no POST fallback');
    nothing_stored($user, 'PUT timeout', tx => 1, account => $acct);
}];

push @subtests, ['PUT 401 once: one token refetch, PUT retried once, success' => sub {
    JumioTest::fake_reset();
    my $user = new_user('put401');
    my $ua = ka();
    start_tx(user => $user, ua => $ua);
    my $tok = n_reqs('token');
    JumioTest::fake_control('account_update', { status => 401, body => '{"title":"Unauthorized","status":401}', times => 1 });
    my $res = request(POST => '/jumio/intake', user => $user, ua => $ua);
    is($res->code, 200, 'intake after a 401: 200') or diag(substr($res->as_string, 0, 600));
    is(n_reqs('token') - $tok, 1, 'exactly one new token request');
    my @put = JumioTest::fake_requests('account_update');
    is(scalar(@put), 2, 'PUT retried once');
    is_deeply([map { $_->{answer_status} } @put], [401, 200], 'first 401, then 200');
    isnt($put[1]{headers}{authorization}, $put[0]{headers}{authorization}, 'the retry carries the new token') if @put == 2;
    is(tx_count($user), 2, 'second transaction stored');
}];

# ---------------------------------------------------------------------------
# Status API (poll of a transaction older than 40 s without a callback)
push @subtests, ['status 500 persistent: 3 attempts (GET retried twice), done false, check counted' => sub {
    JumioTest::fake_reset();
    my $ua = ka();
    my $t = aged_tx('st500', $ua);
    JumioTest::fake_control('status', { status => 500, body => 'oops', content_type => 'text/plain' });
    my ($secs, $res) = timed(sub { poll_tx($t, ua => $ua) });
    is_pending($res, $t, 'INITIATED', 'status 500');
    is(scalar(tx_calls($t, 'status')), 3, 'exactly 3 Status API attempts');
    ok($secs >= 0.75, sprintf('with backoff between attempts (%.2f s >= 0.8 s)', $secs));
    my $row = tx_row($t);
    is($row->{status}, 'INITIATED', 'status unchanged');
    is($row->{status_checks}, 1, 'the check is counted (one per schedule step)');
    is(scalar(tx_calls($t, 'details')), 0, 'no details request');
}];

push @subtests, ['status 500 once: retried to success, result in the same poll' => sub {
    JumioTest::fake_reset();
    my $ua = ka();
    my $t = aged_tx('st500once', $ua);
    JumioTest::fake_control('status', { status => 500, body => 'oops', content_type => 'text/plain', times => 1 });
    my $res = poll_tx($t, ua => $ua);
    is($res->code, 200, 'poll 200');
    my $d = json_answer($res, 'status 500 once') || {};
    ok($d->{done}, 'done: the retry found PROCESSED and the details were fetched');
    is($d->{decision}, 'PASSED', 'decision PASSED');
    is_deeply([map { $_->{answer_status} } tx_calls($t, 'status')], [500, 200], 'two Status API attempts: 500, 200');
    is(tx_row($t)->{status}, 'PROCESSED', 'status PROCESSED stored');
}];

for my $c (
    [ 'status garbage 200', { status => 200, body => 'garbage{' }, 3 ],
    [ 'status 400', { status => 400, body => $PROBLEM }, 1 ],
    [ 'status 404', { status => 404 }, 1 ],
    [ 'status 429', $BUSY, 1 ],
) {
    my ($name, $rule, $attempts) = @$c;
    push @subtests, ["$name: done false, $attempts attempt(s)" => sub {
        JumioTest::fake_reset();
        my $ua = ka();
        my $t = aged_tx('st', $ua);
        JumioTest::fake_control('status', $rule);
        is_pending(poll_tx($t, ua => $ua), $t, 'INITIATED', $name);
        is(scalar(tx_calls($t, 'status')), $attempts, "$name: $attempts Status API attempt(s)");
        is(tx_row($t)->{status}, 'INITIATED', "$name: status unchanged");
        is(tx_row($t)->{status_checks}, 1, "$name: check counted");
    }];
}

push @subtests, ['status slower than JumioTimeout: done false after 3 s, one attempt' => sub {
    JumioTest::fake_reset();
    my $ua = ka();
    my $t = aged_tx('stslow', $ua);
    JumioTest::fake_control('status', { delay => 5, times => 1 });
    my ($secs, $res) = timed(sub { poll_tx($t, ua => $ua) });
    is_pending($res, $t, 'INITIATED', 'status timeout');
    ok($secs < 4.9, sprintf('answered after the 3 s JumioTimeout (%.1f s)', $secs));
    is(scalar(tx_calls($t, 'status')), 1, 'one attempt (a timeout is not retried within a poll)');
}];

push @subtests, ['status 401 once: one token refetch, retried, result' => sub {
    JumioTest::fake_reset();
    my $ua = ka();
    my $t = start_tx(tag => 'st401', ua => $ua);
    JumioTest::fake_set_workflow($t->{ref}, status => 'PROCESSED');
    rows('UPDATE jumio_transactions SET created_at = created_at - 45 WHERE workflow_id = ?', $t->{ref});
    my $tok = n_reqs('token');
    JumioTest::fake_control('status', { status => 401, body => '{"title":"Unauthorized","status":401}', times => 1 });
    my $d = json_of(poll_tx($t, ua => $ua)) || {};
    ok($d->{done}, 'done after the retry');
    is_deeply([map { $_->{answer_status} } tx_calls($t, 'status')], [401, 200], 'status: 401 then 200');
    is(n_reqs('token') - $tok, 1, 'one new token request');
}];

# ---------------------------------------------------------------------------
# details (poll of a PROCESSED transaction)
push @subtests, ['details 500 persistent: 3 attempts per poll, nothing stored, claim released' => sub {
    JumioTest::fake_reset();
    my $ua = ka();
    my $t = processed_tx(tag => 'det500', ua => $ua);
    JumioTest::fake_control('details', { status => 500, body => 'oops', content_type => 'text/plain' });
    my ($secs, $res) = timed(sub { poll_tx($t, ua => $ua) });
    is_pending($res, $t, 'PROCESSED', 'details 500');
    is(scalar(tx_calls($t, 'details')), 3, 'exactly 3 details attempts');
    ok($secs >= 0.75, sprintf('with backoff (%.2f s)', $secs));
    my $row = tx_row($t);
    ok(!defined $row->{details} && !defined $row->{decision}, 'nothing stored');
    is($row->{details_claim_until}, 0, "the poll's claim is given back");
    is_pending(poll_tx($t, ua => $ua), $t, 'PROCESSED', 'details 500, second poll');
    is(scalar(tx_calls($t, 'details')), 6, 'the next poll tries again (3 more)');
}];

push @subtests, ['after many failed details attempts, a poll once Jumio is back still gets the result' => sub {
    JumioTest::fake_reset();
    my $ua = ka();
    my $t = processed_tx(tag => 'detmany', ua => $ua);
    # as after 10 failed fetches during an outage (each poll or background round counts one)
    rows('UPDATE jumio_transactions SET details_attempts = 10 WHERE workflow_id = ?', $t->{ref});
    my $d = json_of(poll_tx($t, ua => $ua)) || {};
    ok($d->{done}, 'poll: done with the details') or diag($JSON->encode($d));
    is(scalar(tx_calls($t, 'details')), 1, 'the details were fetched');
}];

push @subtests, ['details 500 once: absorbed by the retry, done in the same poll' => sub {
    JumioTest::fake_reset();
    my $ua = ka();
    my $t = processed_tx(tag => 'det500once', ua => $ua);
    JumioTest::fake_control('details', { status => 500, body => 'oops', content_type => 'text/plain', times => 1 });
    my $d = json_of(poll_tx($t, ua => $ua)) || {};
    ok($d->{done}, 'done');
    is($d->{decision}, 'PASSED', 'decision PASSED');
    is_deeply([map { $_->{answer_status} } tx_calls($t, 'details')], [500, 200], 'details: 500 then 200');
    ok(defined tx_row($t)->{details}, 'details stored');
}];

for my $c (
    [ 'details garbage 200', { status => 200, body => '<html>' }, 3 ],
    [ 'details 502', { status => 502, body => 'bad gateway', content_type => 'text/plain' }, 3 ],
    [ 'details 400', { status => 400, body => $PROBLEM }, 1 ],
    [ 'details 403', { status => 403, body => '{"message":"Forbidden","httpStatus":"403"}' }, 1 ],
    [ 'details 404', { status => 404 }, 1 ],
    [ 'details 429', $BUSY, 1 ],
) {
    my ($name, $rule, $attempts) = @$c;
    push @subtests, ["$name: done false, $attempts attempt(s), nothing stored" => sub {
        JumioTest::fake_reset();
        my $ua = ka();
        my $t = processed_tx(tag => 'det', ua => $ua);
        JumioTest::fake_control('details', $rule);
        is_pending(poll_tx($t, ua => $ua), $t, 'PROCESSED', $name);
        is(scalar(tx_calls($t, 'details')), $attempts, "$name: $attempts attempt(s)");
        ok(!defined tx_row($t)->{details}, "$name: nothing stored");
        JumioTest::fake_control('details');
        ok((json_of(poll_tx($t)) || {})->{done}, "$name: done once Jumio answers");
    }];
}

push @subtests, ['details slower than JumioTimeout: done false after 3 s, one attempt' => sub {
    JumioTest::fake_reset();
    my $ua = ka();
    my $t = processed_tx(tag => 'detslow', ua => $ua);
    JumioTest::fake_control('details', { delay => 5, times => 1 });
    my ($secs, $res) = timed(sub { poll_tx($t, ua => $ua) });
    is_pending($res, $t, 'PROCESSED', 'details timeout');
    ok($secs < 4.9, sprintf('answered after the 3 s JumioTimeout (%.1f s)', $secs));
    is(scalar(tx_calls($t, 'details')), 1, 'one attempt');
    ok(!defined tx_row($t)->{details}, 'nothing stored');
}];

push @subtests, ['details 401 once: one token refetch, retried, done' => sub {
    JumioTest::fake_reset();
    my $ua = ka();
    my $t = start_tx(tag => 'det401', ua => $ua);
    JumioTest::fake_set_workflow($t->{ref}, status => 'PROCESSED');
    is(send_callback($t, 'PROCESSED')->code, 200, 'callback 200');
    my $tok = n_reqs('token');
    JumioTest::fake_control('details', { status => 401, body => '{"title":"Unauthorized","status":401}', times => 1 });
    my $d = json_of(poll_tx($t, ua => $ua)) || {};
    ok($d->{done}, 'done');
    is_deeply([map { $_->{answer_status} } tx_calls($t, 'details')], [401, 200], 'details: 401 then 200');
    is(n_reqs('token') - $tok, 1, 'one new token request');
}];

# ---------------------------------------------------------------------------
# Jumio unreachable (connection refused): extra httpd instances with one endpoint closed
push @subtests, ['connection refused on every endpoint: 502 upstream_error / done false, retries only for GET' => sub {
    JumioTest::fake_reset();
    my $closed = 'http://127.0.0.1:' . JumioTest::Httpd::closed_port();
    my $noauth = extra_httpd(name => 'f-noauth', endpoints => { auth => "$closed/auth" });
    my $noacct = extra_httpd(name => 'f-noacct', endpoints => { account => "$closed/account" });
    my $noretr = extra_httpd(name => 'f-noretr', endpoints => { retrieval => "$closed/retrieval" });
    my $count = sub { my ($h, $re) = @_; scalar(() = $h->error_log_text =~ /$re/g) };

    # token
    my $u1 = new_user('refused-tok');
    is_error(request(POST => '/jumio/intake', user => $u1, base => $noauth->base), 502, 'upstream_error', 'token refused');
    is($count->($noauth, qr{POST \S+/auth/oauth2/token failed}), 1, 'token: one attempt (POST)');
    is(n_reqs('account_create'), 0, 'no account call without a token');
    is(count_rows($noauth, 'SELECT * FROM jumio_transactions'), 0, 'token refused: nothing stored');

    # account create
    my $u2 = new_user('refused-acct');
    is_error(request(POST => '/jumio/intake', user => $u2, base => $noacct->base), 502, 'upstream_error', 'account POST refused');
    is($count->($noacct, qr{POST \S+/api/v1/accounts failed}), 1, 'account POST: one attempt, not retried');
    is(count_rows($noacct, 'SELECT * FROM jumio_transactions'), 0, 'account POST refused: no transaction');
    is(count_rows($noacct, 'SELECT * FROM jumio_accounts'), 0, 'account POST refused: no account mapping');

    # account update: a stored account (schema made by a first request)
    request(GET => '/jumio/poll', user => $u2, base => $noacct->base, headers => ['X-Transaction-Reference' => uuid_v4()]);
    my $aid = uuid_v4();
    rows($noacct, 'INSERT INTO jumio_accounts (user_id, account_id, credentials, created_at, updated_at) VALUES (?, ?, NULL, ?, ?)',
            $u2, $aid, time, time);
    is_error(request(POST => '/jumio/intake', user => $u2, base => $noacct->base), 502, 'upstream_error', 'account PUT refused');
    is($count->($noacct, qr{PUT \S+/api/v1/accounts/\Q$aid\E failed}), 1, 'account PUT: one attempt, not retried');
    is($count->($noacct, qr{POST \S+/api/v1/accounts failed}), 1, 'no POST fallback after a refused PUT');
    is(count_rows($noacct, 'SELECT * FROM jumio_transactions'), 0, 'account PUT refused: no transaction');

    # status and details (GET: retried twice)
    my $t = start_tx(base => $noretr->base, tag => 'refused-det');
    JumioTest::fake_set_workflow($t->{ref}, status => 'PROCESSED');
    is(send_callback($t, 'PROCESSED')->code, 200, 'callback PROCESSED');
    is_pending(poll_tx($t), $t, 'PROCESSED', 'details refused');
    is($count->($noretr, qr{GET \S+/workflow-executions/\Q$t->{ref}\E failed}), 3, 'details: 3 attempts');
    my $s = start_tx(base => $noretr->base, tag => 'refused-st');
    rows($noretr, 'UPDATE jumio_transactions SET created_at = created_at - 45 WHERE workflow_id = ?', $s->{ref});
    is_pending(poll_tx($s), $s, 'INITIATED', 'status refused');
    is($count->($noretr, qr{GET \S+/workflow-executions/\Q$s->{ref}\E/status failed}), 3, 'status: 3 attempts');

    for my $h ($noauth, $noacct, $noretr) {
        is_deeply([$h->crashes], [], $h->name . ': no crash');
        $h->stop;
    }
}];

# ---------------------------------------------------------------------------
push @subtests, ['token fetch is single-flight per process (event MPM, 10 concurrent intakes)' => sub {
    JumioTest::fake_reset();
    # JumioTimeout 10: the fake answers the 10 account calls one after the other (slowly in
    # the sanitizer pass); this is about the token
    my $h = extra_httpd(name => 'f-event', mpm => 'event', workers => 16, threads => 16, timeout => '10 3');
    my @kids = $h->child_pids;
    is(scalar(@kids), 1, 'one child process') or diag("children: @kids");
    # the database first (concurrent first requests on a fresh SQLite file can fail while
    # the schema is created: t/durability.t)
    poll_tx({ ref => uuid_v4(), user => 'warm', base => $h->base });
    JumioTest::fake_control('token', { delay => 1 });
    my @rc = in_parallel(10, sub { request(POST => '/jumio/intake', user => new_user("sf$_[0]"), base => $h->base)->code == 200 ? 0 : 1 });
    is(scalar(grep { $_ == 0 } @rc), 10, 'all 10 intakes answered 200');
    is(n_reqs('token'), 1, 'one token request for 10 concurrent intakes');
    is(n_reqs('account_create'), 10, '10 account calls');
    JumioTest::fake_control('token');
    is_deeply([$h->crashes], [], 'no crash');
    $h->stop;
}];

@subtests = grep { $_->[0] =~ /$ENV{JUMIO_ONLY}/ } @subtests if $ENV{JUMIO_ONLY};
plan tests => scalar(@subtests), need_module('mod_perl.c');
subtest $_->[0] => $_->[1] for @subtests;
JumioTest::fake_control($_) for qw(token account_update status details);
