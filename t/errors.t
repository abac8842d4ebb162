# t/errors.t - errors common to the handlers: JWT (401), methods (405), content types (415), sizes (413), JSON (400).
# Asserts the behaviour docs/DESIGN.md describes; see t/README.md for the fake Jumio.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

use MIME::Base64 ();

my $CB2    = "http://127.0.0.1:$PORT/jumio/callback2";
my @subtests;

# ---- 401: every way a JWT can be wrong (intake), nothing sent, nothing stored ----
{
    my $now = time;
    my $exp = $now + 600;
    # "Bearer <JWT>" of exactly these claims, signed with $alg (the server's secret unless $key),
    # header {alg, typ JWT} with %$header merged in
    my $signed = sub { my ($alg, $claims, $key, $header) = @_;
                       'Bearer ' . jwt_alg($alg, $key, { sub => undef, exp => undef, %$claims }, $header) };
    my @cases = (
        [ 'no Authorization header',  sub { undef } ],
        [ 'empty Bearer',             sub { 'Bearer ' } ],
        [ 'garbage token',            sub { 'Bearer not-a-jwt' } ],
        [ 'three garbage parts',      sub { 'Bearer aaaa.bbbb.cccc' } ],
        [ 'Basic scheme',             sub { 'Basic ' . MIME::Base64::encode_base64("$_[0]:pw", '') } ],
        [ 'expired (exp an hour ago)', sub { $signed->('HS256', { sub => $_[0], exp => $now - 3600 }) } ],
        [ 'exp beyond leeway (now-120)', sub { $signed->('HS256', { sub => $_[0], exp => $now - 120 }) } ],
        [ 'no exp',                   sub { $signed->('HS256', { sub => $_[0] }) } ],
        [ 'wrong signature',          sub { $signed->('HS256', { sub => $_[0], exp => $exp }, 'another-secret-0123456789abcdef!') } ],
        [ 'signature stripped',       sub { (my $t = $signed->('HS256', { sub => $_[0], exp => $exp })) =~ s/[^.]+\z//; $t } ],
        [ 'payload tampered',         sub { my @p = split /\./, $signed->('HS256', { sub => 'someone-else', exp => $exp });
                                            $p[1] = JumioTest::b64url($JSON->encode({ sub => $_[0], exp => $exp }));
                                            join '.', @p } ],
        [ 'alg none',                 sub { $signed->('none', { sub => $_[0], exp => $exp }) } ],
        [ 'alg None with HS256 MAC',  sub { $signed->('HS256', { sub => $_[0], exp => $exp }, undef, { alg => 'None' }) } ],
        [ 'HS384 token when HS256 is pinned', sub { $signed->('HS384', { sub => $_[0], exp => $exp }) } ],
        [ 'HS512 token when HS256 is pinned', sub { $signed->('HS512', { sub => $_[0], exp => $exp }) } ],
        [ 'RS256 header with HMAC signature', sub { $signed->('HS256', { sub => $_[0], exp => $exp }, undef, { alg => 'RS256' }) } ],
        [ 'alg in lower case (hs256)', sub { $signed->('HS256', { sub => $_[0], exp => $exp }, undef, { alg => 'hs256' }) } ],
        [ 'exp a string',             sub { $signed->('HS256', { sub => $_[0], exp => '' . ($now + 600) }) } ],
        [ 'empty sub',                sub { $signed->('HS256', { sub => '', exp => $exp, name => $_[0] }) } ],
        [ 'missing sub',              sub { $signed->('HS256', { exp => $exp, name => $_[0] }) } ],
        [ 'sub not a string',         sub { $signed->('HS256', { sub => 12345, exp => $exp }) } ],
        [ 'nbf an hour ahead',        sub { $signed->('HS256', { sub => $_[0], exp => $now + 7200, nbf => $now + 3600 }) } ],
        [ 'iat an hour ahead',        sub { $signed->('HS256', { sub => $_[0], exp => $now + 7200, iat => $now + 3600 }) } ],
    );
    push @subtests, ['intake refuses bad JWTs with 401 invalid_token' => sub {
        for my $c (@cases) {
            my ($name, $mk) = @$c;
            JumioTest::fake_reset();
            my $user = new_user('jwt');
            my $auth = $mk->($user);
            my $res = request(POST => '/jumio/intake', defined $auth ? (auth => $auth) : ());
            is_error($res, 401, 'invalid_token', $name);
            nothing_sent($name);
            nothing_stored($user, $name);
        }
    }];
}

push @subtests, ['leeway: exp 30 s ago and nbf 30 s ahead are still accepted (JumioJWTLeeway 60)' => sub {
    my $now = time;
    for my $c ([ 'exp 30 s ago', sub { { sub => $_[0], exp => $now - 30 } } ],
               [ 'nbf 30 s ahead', sub { { sub => $_[0], exp => $now + 600, nbf => $now + 30, iat => $now } } ]) {
        JumioTest::fake_reset();
        my $user = new_user('leeway');
        my $res = request(POST => '/jumio/intake', auth => 'Bearer ' . jwt_alg('HS256', undef, $c->[1]->($user)));
        is($res->code, 200, "$c->[0]: HTTP 200") or diag(substr($res->as_string, 0, 600));
        is(count_rows('SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', $user), 1, "$c->[0]: stored");
    }
}];

push @subtests, ['poll refuses a missing or bad JWT with 401' => sub {
    JumioTest::fake_reset();
    my $ref = uuid_v4();
    my $r1 = request(GET => '/jumio/poll', headers => ['X-Transaction-Reference' => $ref]);
    is_error($r1, 401, 'invalid_token', 'poll without JWT');
    my $r2 = request(GET => '/jumio/poll', auth => 'Bearer x.y.z', headers => ['X-Transaction-Reference' => $ref]);
    is_error($r2, 401, 'invalid_token', 'poll with garbage JWT');
    my $r3 = request(GET => '/jumio/poll', headers => ['X-Transaction-Reference' => $ref],
                     auth => 'Bearer ' . jwt_alg('none', undef, { sub => 'x', exp => time + 600 }, { typ => undef }));
    is_error($r3, 401, 'invalid_token', 'poll with alg none');
    nothing_sent('poll 401');
}];

# ---- 405 with Allow ----
push @subtests, ['wrong methods get 405 method_not_allowed with Allow' => sub {
    JumioTest::fake_reset();
    my @cases = (
        [ GET    => '/jumio/intake',   'POST' ],
        [ PUT    => '/jumio/intake',   'POST' ],
        [ DELETE => '/jumio/intake',   'POST' ],
        [ GET    => '/jumio/callback', 'POST' ],
        [ PUT    => '/jumio/callback', 'POST' ],
        [ POST   => '/jumio/poll',     'GET' ],
        [ DELETE => '/jumio/poll',     'GET' ],
    );
    for my $c (@cases) {
        my ($m, $path, $allow) = @$c;
        my $user = new_user('method');
        my $res = request($m => $path, user => $user, headers => ['X-Transaction-Reference' => uuid_v4()]);
        is_error($res, 405, 'method_not_allowed', "$m $path");
        is($res->header('Allow'), $allow, "$m $path: Allow: $allow");
        nothing_stored($user, "$m $path");
    }
    nothing_sent('405');
}];

# ---- 415 ----
push @subtests, ['intake with a non-empty body that is not application/json gets 415' => sub {
    my @cases = (
        [ 'text/plain',                        '{}' ],
        [ 'application/x-www-form-urlencoded', "callbackUrl=$CB2" ],
        [ 'multipart/form-data; boundary=xx',  "--xx\r\n\r\n{}\r\n--xx--\r\n" ],
        [ 'application/jsonp',                 '{}' ],
        [ undef,                               '{}' ],
    );
    for my $c (@cases) {
        my ($ct, $body) = @$c;
        my $name = 'Content-Type ' . ($ct // '(none)');
        JumioTest::fake_reset();
        my $user = new_user('ctype');
        my $res = request(POST => '/jumio/intake', user => $user, body => $body,
                          headers => [ defined $ct ? ('Content-Type' => $ct) : () ]);
        is_error($res, 415, 'unsupported_media_type', $name);
        nothing_sent($name);
        nothing_stored($user, $name);
    }
}];

# ---- 413 ----
push @subtests, ['bodies over JumioMaxBody get 413 body_too_large (Content-Length and chunked)' => sub {
    # JumioMaxBody 64 at /jumio/intake-small: a 64-byte body passes the size check (and is then
    # refused for its callbackUrl, no allow list there), 65 bytes do not.
    my $mk = sub { my $n = shift; my $pre = '{"callbackUrl":"https://x.example/'; $pre . ('a' x ($n - length($pre) - 2)) . '"}' };
    my $b64 = $mk->(64);
    my $b65 = $mk->(65);
    is(length $b64, 64, 'test body of 64 bytes');
    JumioTest::fake_reset();
    my $u0 = new_user('size');
    my $r0 = request(POST => '/jumio/intake-small', user => $u0, body => $b64, headers => ['Content-Type' => 'application/json']);
    is_error($r0, 400, 'callback_url_not_allowed', '64 bytes at JumioMaxBody 64');

    my @cases = (
        [ '65 bytes, Content-Length', '/jumio/intake-small', body => $b65 ],
        [ '65 bytes, chunked',        '/jumio/intake-small', chunked => [ substr($b65, 0, 30), substr($b65, 30) ] ],
        [ '1000 bytes, chunked',      '/jumio/intake-small', chunked => [ ($mk->(1000)) ] ],
        [ '16385 bytes at the default 16 KiB, Content-Length', '/jumio/intake', body => $mk->(16385) ],
        [ '20000 bytes at the default 16 KiB, chunked', '/jumio/intake',
          chunked => [ map { substr($mk->(20000), $_ * 4000, 4000) } 0 .. 4 ] ],
    );
    for my $c (@cases) {
        my ($name, $path, %o) = @$c;
        JumioTest::fake_reset();
        my $user = new_user('size');
        my $res = request(POST => $path, user => $user, headers => ['Content-Type' => 'application/json'], %o);
        is_error($res, 413, 'body_too_large', $name);
        nothing_sent($name);
        nothing_stored($user, $name);
    }
    nothing_stored($u0, '64 bytes');
}];

# ---- 400: JSON and types ----
push @subtests, ['malformed JSON, non-objects and wrong types get 400 bad_request' => sub {
    my @cases = (
        [ 'malformed JSON',           '{' ],
        [ 'truncated JSON',           '{"callbackUrl":' ],
        [ 'trailing garbage',         '{} x' ],
        [ 'single quotes',            "{'callbackUrl':'x'}" ],
        [ 'array',                    '[]' ],
        [ 'string',                   '"hello"' ],
        [ 'number',                   '42' ],
        [ 'null',                     'null' ],
        [ 'callbackUrl a number',     '{"callbackUrl":123}' ],
        [ 'callbackUrl an array',     $JSON->encode({ callbackUrl => [$CB2] }) ],
        [ 'callbackUrl an object',    $JSON->encode({ callbackUrl => { url => $CB2 } }) ],
        [ 'callbackUrl a boolean',    '{"callbackUrl":true}' ],
        [ 'callbackUrl of 256 chars', $JSON->encode({ callbackUrl => $CB2 . '?p=' . ('a' x (256 - length($CB2) - 3)) }) ],
    );
    for my $c (@cases) {
        my ($name, $body) = @$c;
        JumioTest::fake_reset();
        my $user = new_user('json');
        my $res = request(POST => '/jumio/intake', user => $user, body => $body,
                          headers => ['Content-Type' => 'application/json']);
        is_error($res, 400, 'bad_request', $name);
        nothing_sent($name);
        nothing_stored($user, $name);
    }
}];

push @subtests, ['callbackUrl outside JumioCallbackURLAllow gets 400 callback_url_not_allowed' => sub {
    my @cases = (
        [ 'other host',           '/jumio/intake',         'https://evil.example/jumio/callback' ],
        [ 'other path',           '/jumio/intake',         "http://127.0.0.1:$PORT/jumio/other" ],
        [ 'relative URL',         '/jumio/intake',         '/jumio/callback' ],
        [ 'empty string',         '/jumio/intake',         '' ],
        [ 'host prefix trick',    '/jumio/intake',         "http://127.0.0.1.evil.example/jumio/callback" ],
        [ 'path prefix trick',    '/jumio/intake',         "http://127.0.0.1:$PORT/jumio/callback.evil/x" ],
        [ 'port prefix trick',    '/jumio/intake',         "http://127.0.0.1:${PORT}0/jumio/callback" ],
        [ 'no allow list at all', '/jumio/intake-minimal', "http://127.0.0.1:$PORT/jumio/callback" ],
    );
    for my $c (@cases) {
        my ($name, $path, $url) = @$c;
        JumioTest::fake_reset();
        my $user = new_user('allow');
        my $res = request(POST => $path, user => $user, body => $JSON->encode({ callbackUrl => $url }),
                          headers => ['Content-Type' => 'application/json']);
        is_error($res, 400, 'callback_url_not_allowed', $name);
        nothing_sent($name);
        nothing_stored($user, $name);
    }
}];

# ---- 503: the database is busy (another writer holds it) ----
sub with_db_locked {
    my ($code) = @_;
    my $dbh = JumioTest::db_connect();
    $dbh->sqlite_busy_timeout(20_000);
    $dbh->do('BEGIN EXCLUSIVE');
    my @r = eval { $code->() };
    my $err = $@;
    $dbh->do('ROLLBACK');
    $dbh->disconnect;
    die $err if $err;
    return @r;
}

push @subtests, ['database busy: 503 unavailable, nothing stored, callback not acknowledged' => sub {
    # The lock is SQLite's; on MariaDB, t/mariadb.t stops the server under the module instead.
    plan skip_all => 'SQLite file lock (MariaDB pass: see t/mariadb.t)' if JumioTest::db_is_mysql();
    JumioTest::fake_reset();
    # a transaction to call back for (made while the database is free)
    my $t = start_tx(tag => 'dbowner', name => 'intake while the database is free');
    my $ref = $t->{ref};

    my $user = new_user('dbbusy');
    my ($ri, $rc) = with_db_locked(sub { (request(POST => '/jumio/intake', user => $user), send_callback($t, 'ACQUIRED')) });
    is_error($ri, 503, 'unavailable', 'intake with the database busy');
    nothing_stored($user, 'intake with the database busy');
    is_error($rc, 503, 'unavailable', 'callback with the database busy');
    is(count_rows('SELECT id FROM jumio_callbacks WHERE workflow_id = ?', $ref), 0, 'callback not logged');
    is(tx_row($ref)->{status}, 'INITIATED', 'status unchanged');
    my $again = send_callback($t, 'ACQUIRED');
    is($again->code, 200, "Jumio's retry after the database is free: 200");
    is(tx_row($ref)->{status}, 'ACQUIRED', 'status ACQUIRED');
}];

plan tests => scalar(@subtests), need_module('mod_perl.c');
subtest $_->[0] => $_->[1] for @subtests;
