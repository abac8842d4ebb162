# t/intake.t - jumio-intake: what is sent to Jumio, what is stored and answered, Jumio's faults.
# Asserts the behaviour docs/DESIGN.md describes; see t/README.md for the fake Jumio.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

use MIME::Base64 ();
use Digest::SHA qw(hmac_sha256_hex);
use Time::HiRes ();

my $CB   = "http://127.0.0.1:$PORT/jumio/callback";
my $CB2  = "http://127.0.0.1:$PORT/jumio/callback2";
my $TS_RE = qr/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\z/;

my @WF3_CREDENTIALS = (
    { category => 'ID', type => { values => [qw(ID_CARD PASSPORT DRIVING_LICENSE)] },
      country => { values => [qw(USA AUT)] } },
    { category => 'FACEMAP', type => { values => [qw(IPROOV_STANDARD JUMIO_STANDARD)] } },
);

# The headers every business call to Jumio carries.
sub check_business_headers {
    my ($call, $name, $json_body) = @_;
    my $h = $call->{headers} || {};
    is($h->{accept}, 'application/json', "$name: Accept application/json");
    my ($bearer) = ($h->{authorization} // '') =~ /\ABearer (\S+)\z/;
    ok(defined $bearer && issued_token($bearer), "$name: Authorization Bearer <token issued by the token endpoint>");
    is($h->{'user-agent'}, $UA_STRING, "$name: User-Agent is JumioUserAgent");
    like($h->{'content-type'} // '', qr{\Aapplication/json(?:\s*;\s*charset=utf-8)?\z}i,
         "$name: Content-Type application/json") if $json_body;
    is_deeply($call->{violations} || [], [], "$name: no violation recorded by the fake");
}

# The token request(s): client credentials, Basic auth with the configured client.
sub check_token_calls {
    my $name = shift;
    for my $t (fake_requests('token')) {
        is($t->{method}, 'POST', "$name: token request is a POST");
        is($t->{path}, '/fake/auth/oauth2/token', "$name: token path");
        is($t->{headers}{authorization}, 'Basic ' . MIME::Base64::encode_base64('test-client:test-secret-value', ''),
           "$name: token request authenticates with the client id/secret");
        like($t->{body} // '', qr/(?:\A|&)grant_type=client_credentials(?:&|\z)/, "$name: grant_type=client_credentials");
        is_deeply($t->{violations} || [], [], "$name: token request without violations");
    }
}

# An intake at $loc checked by start_tx (one account call unless calls => N); returns (the
# answer, its last account call, the response).
sub intake_ok {
    my ($loc, $user, $name, %o) = @_;
    my $t = start_tx(path => $loc, user => $user, name => $name, calls => 1, %o);
    return ($t->{answer}, $t->{calls}[-1] || {}, $t->{res});
}

my @subtests;

push @subtests, ['first intake of a user: POST /accounts with the configured workflow 3' => sub {
    JumioTest::fake_reset();
    my $user = new_user('first');
    my $t0 = time;
    my ($d, $call) = intake_ok('/jumio/intake', $user, 'intake');

    is_deeply([ sort keys %$d ], [qw(link timestamp transactionReference)], 'answer has link, timestamp, transactionReference only');
    like($d->{transactionReference} // '', $UUID_RE, 'transactionReference is a UUID');
    like($d->{link} // '', qr{\Ahttps?://\S+\z}, 'link is a URL');
    like($d->{timestamp} // '', $TS_RE, "timestamp is Jumio's ISO timestamp");

    is($call->{endpoint}, 'account_create', 'account_create endpoint');
    is($call->{method}, 'POST', 'method POST');
    is($call->{path}, '/fake/account/api/v1/accounts', 'path /api/v1/accounts');
    ok(!defined $call->{query} || $call->{query} eq '', 'no query string');
    is($call->{answer_status}, 200, 'the fake answered 200');
    check_business_headers($call, 'account_create', 1);
    is(scalar(fake_requests('account_update')), 0, 'no PUT for a user without an account');

    my $b = $call->{json} || {};
    like($b->{customerInternalReference} // '', $UUID4_RE, 'customerInternalReference is a fresh v4 UUID');
    my ($tok) = ($b->{callbackUrl} // '') =~ /\A\Q$CB\E\?jumio_token=($CB_TOKEN_RE)\z/;
    ok(defined $tok, 'callbackUrl = JumioCallbackURL?jumio_token=<43 base64url chars>')
        or diag("callbackUrl: " . ($b->{callbackUrl} // 'undef'));
    like($call->{body} // '', qr/"key"\s*:\s*3\s*[,}]/, 'workflowDefinition.key is the JSON number 3');
    is_deeply($b, {
        customerInternalReference => $b->{customerInternalReference},
        userReference             => $user,
        workflowDefinition        => { key => 3, credentials => \@WF3_CREDENTIALS },
        callbackUrl               => $b->{callbackUrl},
        tokenLifetime             => '30m',
        web => { successUrl => 'https://portal.example/ok', errorUrl => 'https://portal.example/err', locale => 'de' },
    }, 'account request body exactly as configured') or diag($call->{body});

    my @tok = fake_requests('token');
    ok(@tok <= 1, 'at most one token request') or diag(scalar(@tok) . ' token requests');
    check_token_calls('token');
    no_violations('intake');

    my $wf = JumioTest::fake_workflow($d->{transactionReference}) || {};
    like($wf->{account_id} // '', $UUID_RE, 'the fake knows the workflow and its account');
    is($d->{link}, $wf->{web_href}, "link is Jumio's web.href");
    is($wf->{customerInternalReference}, $b->{customerInternalReference}, 'the fake got this customerInternalReference');

    my @tx = rows('SELECT * FROM jumio_transactions WHERE user_id = ?', $user);
    is(scalar @tx, 1, 'one transaction stored');
    my $tx = $tx[0] || {};
    is($tx->{workflow_id}, $d->{transactionReference}, 'stored workflow_id');
    is($tx->{account_id}, $wf->{account_id}, 'stored account_id');
    is($tx->{workflow_key}, 3, 'stored workflow_key');
    is($tx->{cir}, $b->{customerInternalReference}, 'stored customerInternalReference');
    is($tx->{redirect_url}, $d->{link}, 'stored redirect URL = link');
    is($tx->{jumio_timestamp}, $d->{timestamp}, "stored Jumio's timestamp");
    is($tx->{status}, 'INITIATED', 'stored status INITIATED');
    is($tx->{status_rank}, 0, 'stored status_rank 0');
    ok(defined $tx->{callback_token} && length $tx->{callback_token}, 'callback token stored');
    ok(!defined $tx->{details}, 'no details yet');
    ok(($tx->{created_at} // 0) >= $t0 - 2 && ($tx->{created_at} // 0) <= time + 2, 'created_at is now (Unix seconds)');

    my @acc = rows('SELECT * FROM jumio_accounts WHERE user_id = ?', $user);
    is(scalar @acc, 1, 'account mapping stored');
    is(($acc[0] || {})->{account_id}, $wf->{account_id}, 'user -> account id');
    my $creds = eval { $JSON->decode(($acc[0] || {})->{credentials} // 'null') };
    my %cat = map { ($_->{category} // '') => $_->{id} } grep { ref eq 'HASH' } @{ ref $creds eq 'ARRAY' ? $creds : [] };
    my %issued = map { $_->{category} => $_->{id} } @{ $wf->{credentials} || [] };
    for my $c (qw(ID FACEMAP SELFIE)) {
        like($cat{$c} // '', $UUID_RE, "stored credential id for $c");
        is($cat{$c}, $issued{$c}, "stored $c credential id is the one Jumio returned");
    }
}];

push @subtests, ['JSON body {} with charset, and empty body with any content type, are accepted' => sub {
    JumioTest::fake_reset();
    my $u1 = new_user('charset');
    my ($d1, $c1) = intake_ok('/jumio/intake', $u1, 'json {}', body => '{}',
                              headers => ['Content-Type' => 'application/json; charset=utf-8']);
    like(($c1->{json} || {})->{callbackUrl} // '', qr/\A\Q$CB\E\?jumio_token=$CB_TOKEN_RE\z/, 'configured callbackUrl used');
    my $u2 = new_user('empty');
    my ($d2, $c2) = intake_ok('/jumio/intake', $u2, 'empty text/plain', body => '',
                              headers => ['Content-Type' => 'text/plain']);
    like($d2->{transactionReference} // '', $UUID_RE, 'empty body with text/plain: transaction created');
    my $u3 = new_user('nobody');
    my ($d3) = intake_ok('/jumio/intake', $u3, 'no body, no content type');
    like($d3->{transactionReference} // '', $UUID_RE, 'no body: transaction created');
    no_violations('bodies');
}];

push @subtests, ['callbackUrl from the body: allowed prefix used, signed, query kept' => sub {
    JumioTest::fake_reset();
    my $user = new_user('cburl');
    my ($d, $call) = intake_ok('/jumio/intake', $user, 'callback2', body => $JSON->encode({ callbackUrl => $CB2 }),
                               headers => ['Content-Type' => 'application/json']);
    like(($call->{json} || {})->{callbackUrl} // '', qr/\A\Q$CB2\E\?jumio_token=$CB_TOKEN_RE\z/,
         'body callbackUrl sent with ?jumio_token=');
    my $u2 = new_user('cburlq');
    my ($d2, $call2) = intake_ok('/jumio/intake', $u2, 'callback2 with query',
                                 body => $JSON->encode({ callbackUrl => "$CB2?src=portal" }),
                                 headers => ['Content-Type' => 'application/json']);
    like(($call2->{json} || {})->{callbackUrl} // '', qr/\A\Q$CB2?src=portal&jumio_token=\E$CB_TOKEN_RE\z/,
         'a callbackUrl with a query gets &jumio_token=');
    no_violations('callbackUrl');
}];

push @subtests, ['callbackUrl length: 255 after signing is fine, 256 is 400' => sub {
    JumioTest::fake_reset();
    # prefix + 'a' x n, then "?jumio_token=" (13) + 43 chars are added: 199 + 56 = 255.
    my $base = "$CB2?p=";
    my $ok_url = $base . ('a' x (199 - length $base));
    is(length $ok_url, 199, 'test URL has 199 chars');
    my $user = new_user('len');
    my ($d, $call) = intake_ok('/jumio/intake', $user, '199 chars', body => $JSON->encode({ callbackUrl => $ok_url }),
                               headers => ['Content-Type' => 'application/json']);
    my $sent = ($call->{json} || {})->{callbackUrl} // '';
    is(length $sent, 255, 'sent callbackUrl has 255 chars');
    like($sent, qr/\A\Q$ok_url\E&jumio_token=$CB_TOKEN_RE\z/, 'sent callbackUrl = body URL &jumio_token=');

    JumioTest::fake_reset();
    my $u2 = new_user('len2');
    my $res = request(POST => '/jumio/intake', user => $u2, body => $JSON->encode({ callbackUrl => "${ok_url}a" }),
                      headers => ['Content-Type' => 'application/json']);
    is_error($res, 400, 'bad_request', '200 chars (256 after signing)');
    nothing_sent('256 chars');
    nothing_stored($u2, '256 chars');
}];

push @subtests, ['fresh customerInternalReference and callback token per transaction; one token request' => sub {
    JumioTest::fake_reset();
    # One keep-alive connection: the same httpd child serves all three intakes.
    my $ua = keep_alive_ua();
    my (@cir, @tok, @wf, $last);
    for my $i (1 .. 3) {
        my $user = new_user("cache$i");
        my ($d, $call, $res) = intake_ok('/jumio/intake', $user, "intake $i", ua => $ua);
        my $b = $call->{json} || {};
        push @cir, $b->{customerInternalReference} // '';
        push @tok, (($b->{callbackUrl} // '') =~ /jumio_token=($CB_TOKEN_RE)/)[0] // '';
        push @wf, $d->{transactionReference} // '';
        like($cir[-1], $UUID4_RE, "intake $i: customerInternalReference is a v4 UUID");
        ok(length($cir[-1]) <= 100, "intake $i: customerInternalReference <= 100 chars");
        $last = $res;
    }
    is(scalar(keys %{{ map { $_ => 1 } @cir }}), 3, 'three different customerInternalReferences');
    is(scalar(keys %{{ map { $_ => 1 } @tok }}), 3, 'three different callback tokens');
    is(scalar(keys %{{ map { $_ => 1 } @wf }}), 3, 'three different transactions');
    is(Apache::TestRequest::user_agent_request_num($last), 3, 'the three intakes used one connection (test setup)');
    my @t = fake_requests('token');
    ok(@t <= 1, 'token endpoint called at most once for three intakes (token cache)')
        or diag(scalar(@t) . ' token requests');
    my @bearer = map { $_->{headers}{authorization} // '' } account_calls();
    is(scalar(keys %{{ map { $_ => 1 } @bearer }}), 1, 'the same access token is used for all three');
    no_violations('token cache');
}];

push @subtests, ['minimal location: custom key 10013, nothing optional sent' => sub {
    JumioTest::fake_reset();
    my $user = new_user('minimal');
    my ($d, $call) = intake_ok('/jumio/intake-minimal', $user, 'minimal');
    is_deeply([ sort keys %$d ], [qw(link timestamp transactionReference)], 'answer without sdkToken');
    is($call->{method}, 'POST', 'POST');
    is($call->{path}, '/fake/account/api/v1/accounts', 'path');
    check_business_headers($call, 'minimal', 1);
    my $b = $call->{json} || {};
    like($call->{body} // '', qr/"key"\s*:\s*10013\s*[,}]/, 'workflowDefinition.key is the JSON number 10013');
    my $wd = $b->{workflowDefinition} || {};
    ok(!exists $wd->{credentials} || (ref $wd->{credentials} eq 'ARRAY' && !@{ $wd->{credentials} }),
       'no credentials without JumioIdTypes/Countries/FacemapTypes');
    is_deeply([ sort keys %$b ], [qw(customerInternalReference userReference workflowDefinition)],
              'only customerInternalReference, userReference, workflowDefinition sent')
        or diag($call->{body});
    is($wd->{key}, 10013, 'key 10013');
    is($b->{userReference}, $user, 'userReference = user id');
    my $tx = tx_row($d->{transactionReference});
    is($tx->{workflow_key}, 10013, 'stored workflow_key 10013');
    is($tx->{user_id}, $user, 'stored user');
    ok(!defined $tx->{callback_token} || $tx->{callback_token} eq '', 'no callback token without a module-set callbackUrl');
    no_violations('minimal');
}];

push @subtests, ['JumioUserReference hmac: 64-hex HMAC-SHA256 sent, user id stored' => sub {
    JumioTest::fake_reset();
    my $user = new_user('hmac');
    my ($d, $call) = intake_ok('/jumio/intake-hmac', $user, 'hmac');
    my $b = $call->{json} || {};
    is($b->{userReference}, hmac_sha256_hex($user, 'test-userref-key'), 'userReference = hex HMAC-SHA256(user, key)');
    like($b->{userReference} // '', qr/\A[0-9a-f]{64}\z/, 'lowercase 64 hex');
    unlike($call->{body} // '', qr/\Q$user\E/, 'the plain user id is not sent');
    my $tx = tx_row($d->{transactionReference});
    is($tx->{user_id}, $user, 'the local row keeps the user id');

    my $long = 'h' x 150 . "-$RUN";
    my ($d2, $call2) = intake_ok('/jumio/intake-hmac', $long, 'hmac, 150+ char user');
    is(($call2->{json} || {})->{userReference}, hmac_sha256_hex($long, 'test-userref-key'), 'long user id: HMAC sent');
    no_violations('hmac');
}];

push @subtests, ['plain userReference: 100 chars fine, 101 chars 400' => sub {
    JumioTest::fake_reset();
    my $u100 = substr("p100-$RUN-" . ('x' x 100), 0, 100);
    my ($d, $call) = intake_ok('/jumio/intake', $u100, '100 chars');
    is(($call->{json} || {})->{userReference}, $u100, 'userReference of 100 chars sent');

    JumioTest::fake_reset();
    my $u101 = substr("p101-$RUN-" . ('x' x 101), 0, 101);
    my $res = request(POST => '/jumio/intake', user => $u101);
    is_error($res, 400, 'bad_request', '101 chars');
    nothing_sent('101 chars');
    nothing_stored($u101, '101 chars');
}];

push @subtests, ['JumioSdkToken on: sdkToken in the answer' => sub {
    JumioTest::fake_reset();
    my $user = new_user('sdk');
    my ($d) = intake_ok('/jumio/intake-sdk', $user, 'sdk');
    is_deeply([ sort keys %$d ], [qw(link sdkToken timestamp transactionReference)], 'answer has sdkToken');
    ok(defined $d->{sdkToken} && !ref $d->{sdkToken} && length $d->{sdkToken}, 'sdkToken is a non-empty string');
}];

# ---- faults of Jumio's account endpoint: nothing stored, the right error ----
my @faults = (
    [ '400 -> 502 upstream_rejected', [{ status => 400, content_type => 'application/json',
        body => '{"title":"Bad Request","status":400,"detail":"invalid workflowDefinition"}', times => 1 }],
      502, 'upstream_rejected' ],
    [ '403 -> 502 upstream_rejected', [{ status => 403, content_type => 'application/json',
        body => '{"message":"Forbidden","httpStatus":"403"}', times => 1 }], 502, 'upstream_rejected' ],
    [ '500 -> 502 upstream_error', [{ status => 500, body => 'Internal Server Error', content_type => 'text/plain', times => 1 }],
      502, 'upstream_error' ],
    [ 'garbage 200 -> 502 upstream_error', [{ status => 200, content_type => 'application/json',
        body => '<html>not json</html>', times => 1 }], 502, 'upstream_error' ],
    [ '200 without workflowExecution.id -> 502 upstream_error', [{ status => 200, content_type => 'application/json',
        body => $JSON->encode({ timestamp => '2024-05-01T10:00:00.000Z', account => { id => uuid_v4() },
                                web => { href => 'https://fake.web.example/x' }, workflowExecution => { credentials => [] } }),
        times => 1 }], 502, 'upstream_error' ],
    [ '200 with a non-UUID account.id -> 502 upstream_error', [{ status => 200, content_type => 'application/json',
        body => $JSON->encode({ timestamp => '2024-05-01T10:00:00.000Z', account => { id => '../../x' },
                                web => { href => 'https://fake.web.example/x' },
                                workflowExecution => { id => uuid_v4(), credentials => [] } }), times => 1 }],
      502, 'upstream_error' ],
    [ '200 without web.href -> 502 upstream_error', [{ status => 200, content_type => 'application/json',
        body => $JSON->encode({ timestamp => '2024-05-01T10:00:00.000Z', account => { id => uuid_v4() },
                                workflowExecution => { id => uuid_v4(), credentials => [] } }), times => 1 }],
      502, 'upstream_error' ],
);
for my $f (@faults) {
    my ($name, $rules, $status, $code) = @$f;
    push @subtests, ["account_create $name" => sub {
        JumioTest::fake_reset();
        JumioTest::fake_control('account_create', @$rules);
        my $user = new_user('fault');
        my $res = request(POST => '/jumio/intake', user => $user);
        is_error($res, $status, $code, $name);
        is(scalar(fake_requests('account_create')), 1, "$name: one account call, not retried");
        nothing_stored($user, $name);
    }];
}

push @subtests, ['account_create 429 with Retry-After: 7 -> 503 upstream_busy, Retry-After 7' => sub {
    JumioTest::fake_reset();
    JumioTest::fake_control('account_create', { status => 429, headers => { 'Retry-After' => '7' },
        content_type => 'application/json',
        body => '{"title":"Too Many Requests","status":429,"detail":"Request limit exceeded"}', times => 1 });
    my $user = new_user('busy');
    my $res = request(POST => '/jumio/intake', user => $user);
    is_error($res, 503, 'upstream_busy', '429');
    is($res->header('Retry-After'), '7', "Retry-After is Jumio's 7");
    is(scalar(fake_requests('account_create')), 1, 'not retried');
    nothing_stored($user, '429');

    JumioTest::fake_reset();
    JumioTest::fake_control('account_create', { status => 429, content_type => 'application/json',
        body => '{"title":"Too Many Requests","status":429}', times => 1 });
    my $u2 = new_user('busy2');
    my $res2 = request(POST => '/jumio/intake', user => $u2);
    is_error($res2, 503, 'upstream_busy', '429 without Retry-After');
    is($res2->header('Retry-After'), '5', 'Retry-After defaults to 5');
    nothing_stored($u2, '429 without Retry-After');

    JumioTest::fake_reset();
    JumioTest::fake_control('account_create', { status => 429, headers => { 'Retry-After' => 'Wed, 21 Oct 2015 07:28:00 GMT' },
        content_type => 'application/json', body => '{"title":"Too Many Requests","status":429}', times => 1 });
    my $u3 = new_user('busy3');
    my $res3 = request(POST => '/jumio/intake', user => $u3);
    is_error($res3, 503, 'upstream_busy', '429 with an HTTP-date Retry-After');
    is($res3->header('Retry-After'), '5', 'a non-numeric Retry-After becomes 5');
    nothing_stored($u3, '429 with an HTTP-date Retry-After');
}];

push @subtests, ['account_create slower than JumioTimeout -> 504 upstream_timeout, not retried' => sub {
    JumioTest::fake_reset();
    JumioTest::fake_control('account_create', { delay => 5, times => 1 });
    my $user = new_user('slow');
    my $t0 = Time::HiRes::time();
    my $res = request(POST => '/jumio/intake', user => $user);
    my $elapsed = Time::HiRes::time() - $t0;
    is_error($res, 504, 'upstream_timeout', 'timeout');
    ok($elapsed < 4.9, "answered after the 3 s JumioTimeout, not Jumio's 5 s") or diag("took $elapsed s");
    sleep 3;    # let the fake finish its delayed answer
    is(scalar(fake_requests('account_create')), 1, 'a timed-out POST is not retried');
    nothing_stored($user, 'timeout');
}];

push @subtests, ['account_create 401 once: token refetched, call retried once, success' => sub {
    JumioTest::fake_reset();
    my $ua = keep_alive_ua();
    intake_ok('/jumio/intake', new_user('warm'), 'warm-up (token cached in this child)', ua => $ua);
    my $tok_before = () = fake_requests('token');
    my $acc_before = () = fake_requests('account_create');
    JumioTest::fake_control('account_create', { status => 401, content_type => 'application/json',
        body => '{"title":"Unauthorized","status":401}', times => 1 });
    my $user = new_user('reauth');
    my ($d, $call, $res) = intake_ok('/jumio/intake', $user, 'after 401', ua => $ua, calls => 2);
    is(Apache::TestRequest::user_agent_request_num($res), 2, 'same connection as the warm-up (test setup)');
    my @tok = fake_requests('token');
    my @acc = fake_requests('account_create');
    is(scalar(@tok) - $tok_before, 1, 'exactly one new token request after the 401');
    is(scalar(@acc) - $acc_before, 2, 'the account call was retried once');
    is($acc[-2]{answer_status}, 401, 'first attempt got 401') if @acc >= 2;
    is($acc[-1]{answer_status}, 200, 'retry got 200') if @acc >= 1;
    isnt($acc[-1]{headers}{authorization}, $acc[-2]{headers}{authorization}, 'retry uses the new token') if @acc >= 2;
    is(scalar(rows('SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', $user)), 1, 'transaction stored');
}];

push @subtests, ['account_create 401 twice: one retry only, 502 upstream_rejected' => sub {
    JumioTest::fake_reset();
    my $ua = keep_alive_ua();
    intake_ok('/jumio/intake', new_user('warm2'), 'warm-up', ua => $ua);
    my $tok_before = () = fake_requests('token');
    my $acc_before = () = fake_requests('account_create');
    JumioTest::fake_control('account_create', { status => 401, content_type => 'application/json',
        body => '{"title":"Unauthorized","status":401}' });
    my $user = new_user('reauth2');
    my $res = request(POST => '/jumio/intake', user => $user, ua => $ua);
    is_error($res, 502, 'upstream_rejected', '401 twice');
    is(scalar(fake_requests('token')) - $tok_before, 1, 'one token refresh');
    is(scalar(fake_requests('account_create')) - $acc_before, 2, 'two account calls in all');
    nothing_stored($user, '401 twice');
}];

push @subtests, ['token endpoint 500 -> 502 upstream_error' => sub {
    JumioTest::fake_reset();
    # A cached token is refused once (401), so the module must ask the failing token endpoint.
    JumioTest::fake_control('token', { status => 500, body => 'oops', content_type => 'text/plain' });
    JumioTest::fake_control('account_create', { status => 401, content_type => 'application/json',
        body => '{"title":"Unauthorized","status":401}', times => 1 });
    my $user = new_user('tokfail');
    my $res = request(POST => '/jumio/intake', user => $user);
    is_error($res, 502, 'upstream_error', 'token 500');
    ok(scalar(fake_requests('token')) >= 1, 'the token endpoint was asked');
    ok(scalar(fake_requests('account_create')) <= 1, 'no account call after the failed token request');
    nothing_stored($user, 'token 500');
}];

push @subtests, ['token endpoint 401 -> 502 upstream_rejected; token endpoint timeout -> 504' => sub {
    for my $c ([ 'token 401', { status => 401, content_type => 'application/json',
                                body => '{"error":"invalid_client"}' }, 502, 'upstream_rejected' ],
               [ 'token timeout', { delay => 5 }, 504, 'upstream_timeout' ]) {
        my ($name, $rule, $status, $code) = @$c;
        JumioTest::fake_reset();
        JumioTest::fake_control('token', $rule);
        JumioTest::fake_control('account_create', { status => 401, content_type => 'application/json',
            body => '{"title":"Unauthorized","status":401}', times => 1 });
        my $user = new_user('tok');
        my $res = request(POST => '/jumio/intake', user => $user);
        is_error($res, $status, $code, $name);
        ok(scalar(fake_requests('token')) >= 1, "$name: the token endpoint was asked");
        ok(scalar(fake_requests('account_create')) <= 1, "$name: no account call with a new token");
        nothing_stored($user, $name);
        JumioTest::fake_control('token');
        sleep 3 if $rule->{delay};
    }
}];

push @subtests, ['access token reused until 60 s before expires_in ends' => sub {
    JumioTest::fake_reset();
    my $ua = keep_alive_ua();
    intake_ok('/jumio/intake', new_user('warm3'), 'warm-up', ua => $ua);
    # the next token lives 63 s: reusable for 3 s only
    JumioTest::fake_control('token', { expires_in => 63 });
    JumioTest::fake_control('account_create', { status => 401, content_type => 'application/json',
        body => '{"title":"Unauthorized","status":401}', times => 1 });
    my (undef, $ca) = intake_ok('/jumio/intake', new_user('exp-a'), 'A (gets a 63 s token)', ua => $ua, calls => 2);
    my (undef, $cb) = intake_ok('/jumio/intake', new_user('exp-b'), 'B (at once)', ua => $ua);
    sleep 4;
    my (undef, $cc, $res) = intake_ok('/jumio/intake', new_user('exp-c'), 'C (4 s later)', ua => $ua);
    is(Apache::TestRequest::user_agent_request_num($res), 4, 'one connection (test setup)');
    my $bearer = sub { ($_[0] || {})->{headers}{authorization} // '' };
    is($bearer->($cb), $bearer->($ca), 'B reuses the token A got');
    isnt($bearer->($cc), $bearer->($ca), 'C does not use a token with less than 60 s left');
    ok(issued_token(($bearer->($cc) =~ /\ABearer (\S+)/)[0] // ''), "C's token was issued by the token endpoint");
    JumioTest::fake_control('token');
}];

push @subtests, ['no secrets in the error log' => sub {
    my $log = Apache::Test::vars('t_logs') . '/error_log';
    ok(-r $log, 'error_log readable');
    my $text = do { local $/; open my $fh, '<', $log or die "$log: $!"; <$fh> } // '';
    my $basic = MIME::Base64::encode_base64('test-client:test-secret-value', '');
    unlike($text, qr/test-secret-value/, 'client secret not logged');
    unlike($text, qr/\Q$basic\E/, 'Basic credentials not logged');
    unlike($text, qr/test-jwt-secret-0123456789abcdef/, 'JWT secret not logged');
    unlike($text, qr/test-userref-key/, 'user reference key not logged');
    unlike($text, qr/eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{20,}/, 'no JWT logged');
    unlike($text, qr/jumio_token=[A-Za-z0-9_-]{43}/, 'no callback token logged');
}];

plan tests => scalar(@subtests), need_module('mod_perl.c');
subtest $_->[0] => $_->[1] for @subtests;
