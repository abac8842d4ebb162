# t/jwks.t - JumioJWTKey jwks:<url> (README "Directives"): keys from the fake identity provider's JWKS
# document (GET /fake/idp/jwks, endpoint name jwks), chosen by kid, cached, re-read for an
# unknown kid at most once a minute. Virtual hosts jwt_jwks (RS256) and jwt_jwks_es (ES256) of
# t/conf/extra.conf.in, both with JumioJWTIssuer https://idp.example and JumioJWTAudience
# jumio-portal.
#
# The cache is per httpd child: each scenario runs on its own keep-alive connection (so in one
# child; Client-Response-Num proves the connection was kept), and every connection stays open
# until the end, so each scenario starts in a child that has not read the document yet.
# Only this file uses these virtual hosts: a second run against the same server within a
# minute would find children that already read the document (scripts/test starts afresh).
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

my $ISS = 'https://idp.example';
my $AUD = 'jumio-portal';
my %KID = map { $_ => "$_-$RUN" } qw(rsa other ec256 ec384 ec521 rs512 enc);
my $ERROR_LOG = Apache::Test::vars('t_logs') . '/error_log';

# The JWKS document before rotation: one usable RSA key (rsa) for RS256 next to keys RS256
# must skip (EC keys, an RS512-only key, an encryption key); one usable P-256 key for ES256.
sub jwks_v1 {
    return (jwk('rsa', kid => $KID{rsa}, use => 'sig', alg => 'RS256'),
            jwk('ec256', kid => $KID{ec256}, use => 'sig'),
            jwk('ec384', kid => $KID{ec384}),
            jwk('ec521', kid => $KID{ec521}),
            jwk('rsa_other', kid => $KID{rs512}, alg => 'RS512'),
            jwk('rsa_other', kid => $KID{enc}, use => 'enc'));
}

# After rotation: a second usable RSA key (rsa_other).
sub jwks_v2 { return (jwks_v1(), jwk('rsa_other', kid => $KID{other}, use => 'sig')) }

# How many times the fake identity provider's JWKS was read.
sub jwks_reads { return scalar(() = fake_requests('jwks')) }

# A token for vhost alg (RS256 / ES256) with the configured iss and aud, signed with $key
# (undef: rsa_private / ec256_private), kid in the header unless undef; claims override.
sub token {
    my ($alg, $kid, %o) = @_;
    my $key = delete $o{key};
    return jwt_alg($alg, $key, { iss => $ISS, aud => $AUD, %o }, { kid => $kid });
}

# A keep-alive connection to vhost $module: {ua, module, n (responses so far), same (1 while
# every answer came on the one connection)}.
sub connection {
    my ($module) = @_;
    return { ua => keep_alive_ua(), module => $module, n => 0, same => 1 };
}

# POST intake with $token on the connection; the response.
sub send_on {
    my ($conn, $token) = @_;
    Apache::TestRequest::module($conn->{module});
    my $res = request(POST => '/jumio/intake', token => $token, ua => $conn->{ua});
    my $num = $res->header('Client-Response-Num') // 0;
    $conn->{same} = 0 if $num != ++$conn->{n};
    return $res;
}

# The token is accepted on the connection: 200, reached Jumio, stored.
sub accepted { my ($conn, $name, $token, $user) = @_; intake_accepted($name, $user, sub { send_on($conn, $token) }) }

# The token is refused on the connection: 401 invalid_token, nothing stored or sent to Jumio.
sub refused { my ($conn, $name, $token, $user) = @_; intake_refused($name, $user, sub { send_on($conn, $token) }) }

# The connection stayed on one httpd child.
sub one_child {
    my ($conn) = @_;
    ok($conn->{same}, "all $conn->{n} requests on one keep-alive connection (one httpd child)");
}

# Size of the error log now, and the text written since $from.
sub log_size { return -s $ERROR_LOG || 0 }
sub log_since {
    my ($from) = @_;
    open(my $fh, '<', $ERROR_LOG) or return '';
    seek($fh, $from, 0);
    my $text = do { local $/; <$fh> };
    close $fh;
    return $text // '';
}

# Connections are kept (not closed) until the end of the file; see the header comment.
my %conn;
my @subtests;

push @subtests, ['setup: the fake publishes the JWKS document' => sub {
    fake_control('jwks');
    fake_set_jwks(jwks_v1());
    Apache::TestRequest::module('default');
    my $res = request(GET => '/fake/idp/jwks');
    is($res->code, 200, 'GET /fake/idp/jwks: 200');
    my $doc = json_of($res) || {};
    is(scalar @{ $doc->{keys} || [] }, 6, 'six keys published');
    is(((fake_requests('jwks'))[-1] || {})->{endpoint}, 'jwks', 'recorded as endpoint jwks');
}];

push @subtests, ['JWKS endpoint down, nothing cached: 401, logged, and no retry within a minute' => sub {
    my $c = $conn{down_cold} = connection('jwt_jwks');
    my $user = new_user('down-cold');
    fake_control('jwks', { status => 500 });
    my ($reads, $log) = (jwks_reads(), log_size());
    refused($c, 'known kid while the provider answers 500', token('RS256', $KID{rsa}, sub => $user), $user);
    is(jwks_reads() - $reads, 1, 'the document was asked for once');
    like(log_since($log), qr{JWKS document http://127\.0\.0\.1:\d+/fake/idp/jwks answered 500},
         'the failure is in the error log');
    fake_control('jwks');
    $reads = jwks_reads();
    refused($c, 'the same token right after (provider back)', token('RS256', $KID{rsa}, sub => $user), $user);
    is(jwks_reads() - $reads, 0, 'no new read within a minute of the failure');
    one_child($c);
}];

push @subtests, ['JWKS endpoint down, keys cached: known kids keep working' => sub {
    my $c = $conn{down_warm} = connection('jwt_jwks');
    my $user = new_user('down-warm');
    my $reads = jwks_reads();
    accepted($c, 'RSA key by kid', token('RS256', $KID{rsa}, sub => $user), $user);
    is(jwks_reads() - $reads, 1, 'the document was read once');
    fake_control('jwks', { status => 500 });
    my $log = log_size();
    my $u2 = new_user('down-warm-unknown');
    refused($c, 'unknown kid while the provider is down', token('RS256', "nokey-$RUN-a", sub => $u2), $u2);
    is(jwks_reads() - $reads, 2, 'the unknown kid made one (failed) read');
    like(log_since($log), qr{JWKS document \S+ answered 500}, 'the failed read is logged');
    my $u3 = new_user('down-warm-known');
    accepted($c, 'known kid while the provider is down', token('RS256', $KID{rsa}, sub => $u3), $u3);
    is(jwks_reads() - $reads, 2, 'no read for a cached key');
    fake_control('jwks');
    one_child($c);
}];

push @subtests, ['unknown kids: 401 and one read; a burst of random kids reads no more' => sub {
    my $c = $conn{unknown} = connection('jwt_jwks');
    my $user = new_user('unknown');
    my $reads = jwks_reads();
    accepted($c, 'RSA key by kid', token('RS256', $KID{rsa}, sub => $user), $user);
    is(jwks_reads() - $reads, 1, 'first use: the document is read');
    my $u2 = new_user('unknown-kid');
    refused($c, 'unknown kid', token('RS256', "nokey-$RUN-b", sub => $u2), $u2);
    is(jwks_reads() - $reads, 2, 'the unknown kid made exactly one read');
    my @codes = map {
        send_on($c, token('RS256', sprintf('random-%s-%d-%06d', $RUN, $_, int rand 1e6), sub => $u2))->code
    } 1 .. 20;
    is_deeply(\@codes, [(401) x 20], '20 random kids: all 401');
    is(jwks_reads() - $reads, 2, 'still one read for unknown kids within the minute');
    is(tx_count($u2), 0, 'nothing stored for them');
    my $u3 = new_user('unknown-after');
    accepted($c, 'the known kid still works', token('RS256', $KID{rsa}, sub => $u3), $u3);
    refused($c, 'kid of a key published for RS512 only',
            token('RS256', $KID{rs512}, sub => $u2, key => 'rsa_other_private'), $u2);
    refused($c, 'kid of an encryption key', token('RS256', $KID{enc}, sub => $u2, key => 'rsa_other_private'), $u2);
    refused($c, 'kid of an EC key on the RS256 host', token('RS256', $KID{ec256}, sub => $u2), $u2);
    refused($c, 'right kid, signed with another key',
            token('RS256', $KID{rsa}, sub => $u2, key => 'rsa_other_private'), $u2);
    refused($c, 'kid with a control character', token('RS256', "bad\tkid", sub => $u2), $u2);
    refused($c, 'kid longer than 256', token('RS256', 'k' x 257, sub => $u2), $u2);
    is(jwks_reads() - $reads, 2, 'none of these read the document again');
    one_child($c);
}];

push @subtests, ['claims with JWKS keys: iss and aud (string and array), times, alg pinned' => sub {
    my $c = $conn{claims} = connection('jwt_jwks');
    my $user = new_user('claims');
    my $reads = jwks_reads();
    accepted($c, 'iss and aud as configured', token('RS256', $KID{rsa}, sub => $user), $user);
    my $u2 = new_user('claims-array');
    accepted($c, 'aud as an array holding the audience',
             token('RS256', $KID{rsa}, sub => $u2, aud => ['other', $AUD]), $u2);
    my $bad = new_user('claims-bad');
    my %t = (sub => $bad);
    refused($c, 'wrong issuer', token('RS256', $KID{rsa}, %t, iss => 'https://evil.example'), $bad);
    refused($c, 'no issuer', token('RS256', $KID{rsa}, %t, iss => undef), $bad);
    refused($c, 'wrong audience (string)', token('RS256', $KID{rsa}, %t, aud => 'other'), $bad);
    refused($c, 'wrong audience (array)', token('RS256', $KID{rsa}, %t, aud => ['other', 'more']), $bad);
    refused($c, 'no audience', token('RS256', $KID{rsa}, %t, aud => undef), $bad);
    refused($c, 'expired', token('RS256', $KID{rsa}, %t, exp => time - 3600), $bad);
    refused($c, 'not yet valid (nbf)', token('RS256', $KID{rsa}, %t, nbf => time + 3600), $bad);
    refused($c, 'issued in the future (iat)', token('RS256', $KID{rsa}, %t, iat => time + 3600), $bad);
    refused($c, 'no user claim', token('RS256', $KID{rsa}, %t, sub => undef), $bad);
    refused($c, 'RS512 token with a known kid', jwt_alg('RS512', undef, { %t, iss => $ISS, aud => $AUD },
                                                        { kid => $KID{rsa} }), $bad);
    refused($c, 'alg none with a known kid', jwt_alg('none', undef, { %t, iss => $ISS, aud => $AUD },
                                                     { kid => $KID{rsa} }), $bad);
    my ($pem) = do { open(my $fh, '<', key_file('rsa_public')) or die; local $/; <$fh> };
    refused($c, 'HS256 signed with the JWKS key as PEM', jwt_alg('HS256', $pem, { %t, iss => $ISS, aud => $AUD },
                                                                 { kid => $KID{rsa} }), $bad);
    is(jwks_reads() - $reads, 1, 'one read for all of these');
    one_child($c);
}];

push @subtests, ['rotation: a new key is used after the read its unknown kid triggers; kid-less tokens' => sub {
    my $c = $conn{rotation} = connection('jwt_jwks');
    my $user = new_user('rotation');
    fake_set_jwks(jwks_v1());
    my $reads = jwks_reads();
    accepted($c, 'old key by kid', token('RS256', $KID{rsa}, sub => $user), $user);
    my $u2 = new_user('rotation-nokid');
    accepted($c, 'no kid, one usable RSA key in the document', token('RS256', undef, sub => $u2), $u2);
    is(jwks_reads() - $reads, 1, 'one read so far');
    fake_set_jwks(jwks_v2());
    my $u3 = new_user('rotation-new');
    accepted($c, 'new key by its kid', token('RS256', $KID{other}, sub => $u3, key => 'rsa_other_private'), $u3);
    is(jwks_reads() - $reads, 2, 'the new kid made one read');
    my $u4 = new_user('rotation-nokid2');
    refused($c, 'no kid, two usable RSA keys', token('RS256', undef, sub => $u4), $u4);
    my $u5 = new_user('rotation-old');
    accepted($c, 'old key still by kid', token('RS256', $KID{rsa}, sub => $u5), $u5);
    is(jwks_reads() - $reads, 2, 'no further reads');
    fake_set_jwks(jwks_v1());
    one_child($c);
}];

push @subtests, ['ES256 host: EC P-256 key by kid; other curves are not used' => sub {
    my $c = $conn{es} = connection('jwt_jwks_es');
    my $user = new_user('es');
    my $reads = jwks_reads();
    accepted($c, 'EC key by kid', token('ES256', $KID{ec256}, sub => $user), $user);
    my $u2 = new_user('es-nokid');
    accepted($c, 'no kid: the only P-256 key', token('ES256', undef, sub => $u2), $u2);
    is(jwks_reads() - $reads, 1, 'one read');
    my $bad = new_user('es-bad');
    refused($c, 'RS256 token (alg pinned)', token('RS256', $KID{rsa}, sub => $bad), $bad);
    refused($c, 'ES384 token with the P-384 kid', token('ES384', $KID{ec384}, sub => $bad), $bad);
    is(jwks_reads() - $reads, 1, 'tokens of another algorithm do not read the document');
    refused($c, 'ES256 token naming the P-384 key', token('ES256', $KID{ec384}, sub => $bad), $bad);
    refused($c, 'wrong audience', token('ES256', $KID{ec256}, sub => $bad, aud => 'other'), $bad);
    one_child($c);
}];

push @subtests, ['configuration: jwks: needs an http(s) URL and an RS/ES algorithm' => sub {
    my $vars = Apache::Test::vars();
    my $dir = "$vars->{t_logs}/jwks_conf";
    mkdir $dir;
    my $so = "$vars->{serverroot}/../.libs/mod_jumio.so";
    my $check = sub {
        my ($alg, $key) = @_;
        open(my $fh, '>', "$dir/httpd.conf") or die "$dir/httpd.conf: $!";
        print {$fh} <<"EOF";
ServerRoot $dir
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so
LoadModule jumio_module $so
Listen 127.0.0.1:1
ErrorLog $dir/error_log
PidFile $dir/httpd.pid
JumioJWTAlgorithm $alg
JumioJWTKey $key
EOF
        close $fh;
        my $out = `$vars->{httpd} -t -f $dir/httpd.conf 2>&1`;
        return ($? == 0, $out);
    };
    my ($ok, $out) = $check->('RS256', 'jwks:https://idp.example/.well-known/jwks.json');
    ok($ok, 'RS256 with jwks:https://...: Syntax OK') or diag($out);
    ($ok, $out) = $check->('ES512', 'jwks:http://127.0.0.1/jwks');
    ok($ok, 'ES512 with jwks:http://...: Syntax OK') or diag($out);
    ($ok, $out) = $check->('HS256', 'jwks:https://idp.example/jwks');
    ok(!$ok, 'HS256 with jwks: is refused');
    like($out, qr/JumioJWTKey jwks: needs JumioJWTAlgorithm RS256/, 'the message names the problem');
    ($ok, $out) = $check->('RS256', 'jwks:ftp://idp.example/jwks');
    ok(!$ok, 'jwks:ftp://... is refused');
    like($out, qr/JumioJWTKey: jwks: needs an http\(s\) URL/, 'the message names the problem');
    ($ok, $out) = $check->('RS256', 'jwks:');
    ok(!$ok, 'jwks: without URL is refused');
}];

plan tests => scalar(@subtests), need_module('mod_perl.c');
subtest $_->[0] => $_->[1] for @subtests;
