# Cross-site protection of ambient credentials (JumioUserSource remote-user: intake and erase
# refuse cross-site requests with 403 cross_site_request, nothing sent to Jumio, nothing
# stored) and CORS for pages on the origins of JumioAllowedOrigin (preflights and answer
# headers of intake, poll and erase). docs/DESIGN.md "Cross-site requests and CORS";
# locations /jumio/xs/* (Basic auth, remote-user) and /jumio/cors/* (JWT) of t/conf/extra.conf.in.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use MIME::Base64 ();
use JSON::PP ();
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

my $ALICE   = 'Basic ' . MIME::Base64::encode_base64('alice:alicepw', '');
my $BOB     = 'Basic ' . MIME::Base64::encode_base64('bob:bobpw', '');
my $SELF    = 'http://' . Apache::TestRequest::hostport();    # the test server's own origin
my $ALLOWED = 'https://portal.example';                       # configured as https://portal.example:443
my $OTHER   = 'https://other.example:8443';                   # configured as HTTPS://Other.Example:8443
my $FOREIGN = 'https://evil.example';
my $JSON_CT = 'application/json';
my $HEADERS = 'Authorization, Content-Type, X-Transaction-Reference';

# The stored account id of $user, or undef.
sub account_of {
    my ($user) = @_;
    my ($row) = rows('SELECT account_id FROM jumio_accounts WHERE user_id = ?', $user);
    return $row ? $row->{account_id} : undef;
}

# Names of the Access-Control-* headers of an answer.
sub cors_headers { [ sort grep { /\Aaccess-control-/i } $_[0]->headers->header_field_names ] }

# A request with Basic credentials ($o{auth}, default alice's) and %o (headers, body,
# content_type) to a /jumio/xs location.
sub xs {
    my ($method, $path, %o) = @_;
    return request($method, $path, auth => delete $o{auth} // $ALICE, %o);
}

# A request (xs(...) arguments) that must be refused as cross-site: 403 cross_site_request,
# nothing sent to Jumio, nothing stored or deleted for $user.  Returns the response.
sub refused {
    my ($name, $user, @req) = @_;
    fake_reset();
    my ($tx, $account) = (tx_count($user), account_of($user));
    my $res = xs(@req);
    is_error($res, 403, 'cross_site_request', $name);
    nothing_sent($name, $account // ());
    nothing_stored($user, $name, tx => $tx, account => $account);
    return $res;
}

# An intake (xs(...) arguments) that must pass the check: 200, one account call, one more
# transaction for $user.  Returns the response.
sub accepted {
    my ($name, $user, @req) = @_;
    fake_reset();
    my $tx = tx_count($user);
    my $res = xs(@req);
    is($res->code, 200, "$name: 200") or diag(substr($res->as_string, 0, 600));
    is(scalar(account_calls()), 1, "$name: the intake reached Jumio");
    is(tx_count($user), $tx + 1, "$name: stored for $user");
    return $res;
}

# The CORS headers of an answer to an allowed origin: exactly $origin, Vary: Origin, and the
# credentials header only with $creds.
sub cors_ok {
    my ($res, $origin, $creds, $name) = @_;
    is($res->header('Access-Control-Allow-Origin'), $origin, "$name: Access-Control-Allow-Origin $origin");
    is($res->header('Vary'), 'Origin', "$name: Vary: Origin");
    is($res->header('Access-Control-Allow-Credentials'), $creds ? 'true' : undef,
       "$name: " . ($creds ? 'Access-Control-Allow-Credentials: true' : 'no credentials header'));
}

my @subtests;

push @subtests, ['remote-user intake: cross-site requests refused, nothing sent or stored' => sub {
    my $u = 'alice';
    refused('Sec-Fetch-Site: cross-site', $u, POST => '/jumio/xs/intake', content_type => $JSON_CT,
            headers => ['Sec-Fetch-Site' => 'cross-site']);
    refused('Sec-Fetch-Site: cross-site with our own Origin', $u, POST => '/jumio/xs/intake',
            content_type => $JSON_CT, headers => ['Sec-Fetch-Site' => 'cross-site', Origin => $SELF]);
    refused('foreign Origin', $u, POST => '/jumio/xs/intake', content_type => $JSON_CT,
            headers => [Origin => $FOREIGN]);
    refused('foreign Origin, Sec-Fetch-Site: same-site', $u, POST => '/jumio/xs/intake',
            content_type => $JSON_CT, headers => [Origin => $FOREIGN, 'Sec-Fetch-Site' => 'same-site']);
    refused('Origin null', $u, POST => '/jumio/xs/intake', content_type => $JSON_CT,
            headers => [Origin => 'null']);
    refused('our host on another port', $u, POST => '/jumio/xs/intake', content_type => $JSON_CT,
            headers => [Origin => 'http://' . (split /:/, Apache::TestRequest::hostport())[0] . ':1']);
    refused('no headers, no Content-Type, empty body', $u, POST => '/jumio/xs/intake', body => '');
    refused('form-style empty POST', $u, POST => '/jumio/xs/intake', body => '',
            content_type => 'application/x-www-form-urlencoded');
    refused('text/plain form with a body', $u, POST => '/jumio/xs/intake', body => '{}',
            content_type => 'text/plain');
}];

push @subtests, ['remote-user intake: same origin, allowed origins, JSON without headers accepted' => sub {
    my $u = 'alice';
    my $res = accepted('no headers, Content-Type: application/json', $u, POST => '/jumio/xs/intake',
                       content_type => $JSON_CT);
    is_deeply(cors_headers($res), [], 'no Origin: no CORS headers');
    $res = accepted('same origin', $u, POST => '/jumio/xs/intake',
                    headers => [Origin => $SELF, 'Sec-Fetch-Site' => 'same-origin']);
    is_deeply(cors_headers($res), [], 'same origin: no CORS headers');
    accepted('Sec-Fetch-Site: same-origin without Origin', $u, POST => '/jumio/xs/intake',
             headers => ['Sec-Fetch-Site' => 'same-origin']);
    accepted('Sec-Fetch-Site: none (the user\'s own navigation)', $u, POST => '/jumio/xs/intake',
             headers => ['Sec-Fetch-Site' => 'none']);
    # what a browser on an allowed origin of another site sends
    $res = accepted('allowed origin, Sec-Fetch-Site: cross-site', $u, POST => '/jumio/xs/intake',
                    headers => [Origin => $ALLOWED, 'Sec-Fetch-Site' => 'cross-site']);
    cors_ok($res, $ALLOWED, 1, 'allowed origin');
    $res = accepted('second allowed origin (other port)', $u, POST => '/jumio/xs/intake',
                    content_type => $JSON_CT, body => '{}', headers => [Origin => $OTHER]);
    cors_ok($res, $OTHER, 1, 'second allowed origin');
    is($res->header('Access-Control-Expose-Headers'), 'Retry-After', 'Retry-After readable by the page');
}];

push @subtests, ['remote-user erase: cross-site requests refused, rows and Jumio account kept' => sub {
    my $u = 'bob';
    accepted('bob intake', $u, POST => '/jumio/xs/intake', auth => $BOB, content_type => $JSON_CT);
    my ($tx, $account) = (tx_count($u), account_of($u));
    ok($tx >= 1 && defined $account, 'bob has a transaction and an account');
    refused('erase: Sec-Fetch-Site: cross-site', $u, DELETE => '/jumio/xs/erase', auth => $BOB,
            content_type => $JSON_CT, headers => ['Sec-Fetch-Site' => 'cross-site']);
    refused('erase: foreign Origin', $u, DELETE => '/jumio/xs/erase', auth => $BOB,
            content_type => $JSON_CT, headers => [Origin => $FOREIGN]);
    refused('erase: no headers, no Content-Type', $u, DELETE => '/jumio/xs/erase', auth => $BOB);
    is(scalar(fake_requests('delete_account')), 0, 'no Deletion API call');

    fake_reset();
    my $res = xs(DELETE => '/jumio/xs/erase', auth => $BOB,
                 headers => [Origin => $ALLOWED, 'Sec-Fetch-Site' => 'cross-site']);
    is($res->code, 200, 'erase from an allowed origin: 200') or diag(substr($res->as_string, 0, 600));
    is_deeply(json_of($res), { erased => JSON::PP::true(), transactions => $tx }, 'erased');
    cors_ok($res, $ALLOWED, 1, 'erase from an allowed origin');
    is_deeply(deleted_accounts(), { $account => 200 }, "bob's account deleted at Jumio");
    is_error(xs(DELETE => '/jumio/xs/erase', auth => $BOB, content_type => $JSON_CT), 404, 'not_found',
             'erase without headers but JSON: passes the check (nothing left)');
}];

push @subtests, ['bearer tokens (JWT) are not affected' => sub {
    my $u = new_user('jwt-xs');
    fake_reset();
    my $t = start_tx(user => $u, path => '/jumio/cors/intake', calls => 1, name => 'JWT, foreign Origin',
                     headers => [Origin => $FOREIGN, 'Sec-Fetch-Site' => 'cross-site']);
    is_deeply(cors_headers($t->{res}), [], 'foreign origin: no CORS headers');
    is($t->{res}->header('Vary'), 'Origin', 'the answer varies with Origin');
    $t = start_tx(user => $u, calls => 1, name => 'JWT, no allow-list, foreign Origin, form type',
                  headers => [Origin => $FOREIGN, 'Sec-Fetch-Site' => 'cross-site',
                              'Content-Type' => 'application/x-www-form-urlencoded']);
    is_deeply(cors_headers($t->{res}), [], 'no allow-list: no CORS headers');
    is($t->{res}->header('Vary'), undef, 'no allow-list: no Vary');
    $t = start_tx(user => $u, path => '/jumio/cors/intake', calls => 1, name => 'JWT, allowed origin',
                  headers => [Origin => $ALLOWED, 'Sec-Fetch-Site' => 'cross-site']);
    cors_ok($t->{res}, $ALLOWED, 0, 'JWT, allowed origin');

    my $p = poll($t->{ref}, path => '/jumio/cors/poll', user => $u, headers => [Origin => $ALLOWED]);
    is($p->code, 200, 'poll from an allowed origin: 200');
    cors_ok($p, $ALLOWED, 0, 'poll from an allowed origin');
    $p = poll($t->{ref}, path => '/jumio/cors/poll', user => $u, headers => [Origin => $FOREIGN]);
    is($p->code, 200, 'poll from a foreign origin: 200 (the browser keeps it from the page)');
    is_deeply(cors_headers($p), [], 'poll from a foreign origin: no CORS headers');
}];

push @subtests, ['CORS: error answers carry the headers too' => sub {
    my $res = request(POST => '/jumio/cors/intake', headers => [Origin => $ALLOWED]);
    is_error($res, 401, 'invalid_token', 'no token from an allowed origin');
    cors_ok($res, $ALLOWED, 0, '401');
    $res = poll(uuid_v4(), path => '/jumio/cors/poll', user => new_user('cors'), headers => [Origin => $ALLOWED]);
    is_error($res, 404, 'not_found', 'unknown reference from an allowed origin');
    cors_ok($res, $ALLOWED, 0, '404');
    $res = xs(GET => '/jumio/xs/poll', headers => [Origin => $OTHER, 'X-Transaction-Reference' => uuid_v4()]);
    is_error($res, 404, 'not_found', 'remote-user poll, unknown reference, allowed origin');
    cors_ok($res, $OTHER, 1, 'remote-user 404');
    $res = xs(POST => '/jumio/xs/intake', content_type => 'text/xml', body => '<x/>',
              headers => [Origin => $FOREIGN]);
    is_error($res, 403, 'cross_site_request', 'foreign origin');
    is_deeply(cors_headers($res), [], 'refused: no CORS headers');
}];

push @subtests, ['CORS preflights' => sub {
    my @cases = (['/jumio/xs/intake', 'POST', 1], ['/jumio/xs/poll', 'GET', 1],
                 ['/jumio/xs/erase', 'DELETE', 1], ['/jumio/cors/intake', 'POST', 0],
                 ['/jumio/cors/poll', 'GET', 0]);
    for my $c (@cases) {
        my ($path, $method, $creds) = @$c;
        my $res = request(OPTIONS => $path, headers => [Origin => $ALLOWED,
                          'Access-Control-Request-Method' => $method,
                          'Access-Control-Request-Headers' => 'authorization,content-type']);
        is($res->code, 204, "preflight $path: 204") or diag(substr($res->as_string, 0, 600));
        cors_ok($res, $ALLOWED, $creds, "preflight $path");
        is($res->header('Access-Control-Allow-Methods'), $method, "preflight $path: Allow-Methods $method");
        is($res->header('Access-Control-Allow-Headers'), $HEADERS, "preflight $path: Allow-Headers");
        is($res->header('Access-Control-Max-Age'), '600', "preflight $path: Max-Age 600");
        is($res->content, '', "preflight $path: no body");
    }
    my $res = request(OPTIONS => '/jumio/xs/intake', headers => [Origin => $OTHER,
                      'Access-Control-Request-Method' => 'POST']);
    is($res->code, 204, 'preflight from the second allowed origin: 204');
    is($res->header('Access-Control-Allow-Origin'), $OTHER, 'its origin');

    for my $c (['/jumio/xs/intake', $FOREIGN], ['/jumio/cors/poll', $FOREIGN], ['/jumio/xs/erase', 'null'],
               ['/jumio/intake', $ALLOWED]) {
        my ($path, $origin) = @$c;
        $res = request(OPTIONS => $path, headers => [Origin => $origin, 'Access-Control-Request-Method' => 'POST']);
        is_error($res, 403, 'cross_site_request', "preflight $path from $origin");
        is_deeply(cors_headers($res), [], "preflight $path from $origin: no CORS headers");
    }

    for my $c ([ '/jumio/xs/intake', [] ], [ '/jumio/intake', [] ], [ '/jumio/xs/poll', [Origin => $ALLOWED] ],
               [ '/jumio/callback', [Origin => $ALLOWED, 'Access-Control-Request-Method' => 'POST'] ]) {
        my ($path, $h) = @$c;
        $res = request(OPTIONS => $path, headers => $h);
        is_error($res, 405, 'method_not_allowed', "OPTIONS $path, not a preflight (@$h)");
        like($res->header('Allow') // '', qr/\A(?:POST|GET)\z/, "OPTIONS $path: Allow");
        ok(!defined $res->header('Access-Control-Allow-Methods'), "OPTIONS $path: no Allow-Methods");
    }
}];

plan tests => scalar(@subtests), need_module('mod_perl.c');
subtest $_->[0] => $_->[1] for @subtests;
