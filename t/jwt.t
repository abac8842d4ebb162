# t/jwt.t - server-scope JWT variants with PEM public keys (README "Directives"): the virtual hosts
# jwt_rs256 (RS256, t/keys/rsa_public.pem) and jwt_es256 (ES256, t/keys/ec256_public.pem) of
# t/conf/extra.conf.in. Good tokens reach Jumio; a foreign algorithm, alg none, RS->HS key
# confusion, a wrong key, bad times or a missing user claim give 401 invalid_token with
# WWW-Authenticate, nothing stored and nothing sent to Jumio. (Issuer and audience: t/jwks.t.)
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

# Text of a PEM file as JumioJWTKey file: reads it (one trailing newline dropped) and as is.
sub pem_text {
    my ($name) = @_;
    open(my $fh, '<', key_file($name)) or die "cannot read $name: $!";
    my $text = do { local $/; <$fh> };
    close $fh;
    (my $stripped = $text) =~ s/\r?\n\z//;
    return ($stripped, $text);
}

# POST intake on vhost $module with $token: 200, the answer has a link, the intake reached
# Jumio and was stored.
sub accepted {
    my ($module, $name, $token, $user) = @_;
    Apache::TestRequest::module($module);
    my $d = json_of(intake_accepted($name, $user, sub { intake(token => $token) })) || {};
    like($d->{link} // '', qr{\Ahttps://}, "$name: answer has the link");
    return $d;
}

# POST intake on vhost $module with $token: 401 invalid_token with WWW-Authenticate, nothing
# stored for $user, nothing sent to Jumio.
sub refused {
    my ($module, $name, $token, $user) = @_;
    Apache::TestRequest::module($module);
    intake_refused($name, $user, sub { intake(token => $token) });
}

my @subtests;

push @subtests, ['RS256 vhost: a good token reaches Jumio; poll works with it too' => sub {
    my $user = new_user('rs-good');
    my $token = jwt_alg('RS256', 'rsa_private', { sub => $user });
    my $d = accepted('jwt_rs256', 'RS256', $token, $user);
    Apache::TestRequest::module('jwt_rs256');
    my $res = poll($d->{transactionReference}, token => $token);
    is($res->code, 200, 'poll with the same RS256 token: 200') or diag($res->as_string);
    ok(!(json_of($res) || {})->{done}, 'poll: not done yet');
}];

push @subtests, ['RS256 vhost: other algorithms are refused (pinned)' => sub {
    my $user = new_user('rs-alg');
    refused('jwt_rs256', 'RS512 token', jwt_alg('RS512', 'rsa_private', { sub => $user }), $user);
    refused('jwt_rs256', 'RS384 token', jwt_alg('RS384', 'rsa_private', { sub => $user }), $user);
    refused('jwt_rs256', 'ES256 token', jwt_alg('ES256', undef, { sub => $user }), $user);
    refused('jwt_rs256', 'RS256 signature under header alg RS512',
            jwt_alg('RS256', 'rsa_private', { sub => $user }, { alg => 'RS512' }), $user);
    refused('jwt_rs256', 'HS256 token with the test secret', jwt(sub => $user), $user);
}];

push @subtests, ['RS256 vhost: alg none is refused' => sub {
    my $user = new_user('rs-none');
    refused('jwt_rs256', 'alg none', jwt_alg('none', undef, { sub => $user }), $user);
    refused('jwt_rs256', 'alg none under header alg RS256',
            jwt_alg('none', undef, { sub => $user }, { alg => 'RS256' }), $user);
}];

push @subtests, ['RS256 vhost: RS->HS key confusion (HMAC with the public PEM) is refused' => sub {
    my $user = new_user('rs-confusion');
    my ($stripped, $raw) = pem_text('rsa_public');
    refused('jwt_rs256', 'HS256 signed with the public PEM as read by JumioJWTKey',
            jwt_alg('HS256', $stripped, { sub => $user }), $user);
    refused('jwt_rs256', 'HS256 signed with the PEM file as it is',
            jwt_alg('HS256', $raw, { sub => $user }), $user);
    refused('jwt_rs256', 'HS256 signature under header alg RS256',
            jwt_alg('HS256', $stripped, { sub => $user }, { alg => 'RS256' }), $user);
}];

push @subtests, ['RS256 vhost: a token signed with another RSA key is refused' => sub {
    my $user = new_user('rs-otherkey');
    refused('jwt_rs256', 'RS256 with rsa_other', jwt_alg('RS256', 'rsa_other_private', { sub => $user }),
            $user);
}];

push @subtests, ['RS256 vhost: exp, nbf and iat are enforced (leeway 60 s)' => sub {
    my $user = new_user('rs-times');
    my $now = time;
    refused('jwt_rs256', 'expired', jwt_alg('RS256', undef, { sub => $user, exp => $now - 3600 }), $user);
    refused('jwt_rs256', 'expired beyond the leeway',
            jwt_alg('RS256', undef, { sub => $user, exp => $now - 120 }), $user);
    refused('jwt_rs256', 'no exp', jwt_alg('RS256', undef, { sub => $user, exp => undef }), $user);
    refused('jwt_rs256', 'not yet valid (nbf)',
            jwt_alg('RS256', undef, { sub => $user, nbf => $now + 3600 }), $user);
    refused('jwt_rs256', 'issued in the future (iat)',
            jwt_alg('RS256', undef, { sub => $user, iat => $now + 3600 }), $user);
}];

push @subtests, ['RS256 vhost: a token without the user claim is refused' => sub {
    my $user = new_user('rs-nosub');
    refused('jwt_rs256', 'no sub', jwt_alg('RS256', undef, { sub => undef, name => $user }), $user);
    refused('jwt_rs256', 'empty sub', jwt_alg('RS256', undef, { sub => '' }), '');
    refused('jwt_rs256', 'numeric sub', jwt_alg('RS256', undef, { sub => 42 }), '42');
}];

push @subtests, ['ES256 vhost: a good token reaches Jumio' => sub {
    my $user = new_user('es-good');
    accepted('jwt_es256', 'ES256', jwt_alg('ES256', 'ec256_private', { sub => $user }), $user);
}];

push @subtests, ['ES256 vhost: other algorithms, keys and bad tokens are refused' => sub {
    my $user = new_user('es-bad');
    my ($pem) = pem_text('ec256_public');
    refused('jwt_es256', 'ES384 token', jwt_alg('ES384', undef, { sub => $user }), $user);
    refused('jwt_es256', 'ES512 token', jwt_alg('ES512', undef, { sub => $user }), $user);
    refused('jwt_es256', 'RS256 token', jwt_alg('RS256', undef, { sub => $user }), $user);
    refused('jwt_es256', 'alg none', jwt_alg('none', undef, { sub => $user }), $user);
    refused('jwt_es256', 'HS256 signed with the EC public PEM',
            jwt_alg('HS256', $pem, { sub => $user }), $user);
    refused('jwt_es256', 'HS256 with the EC public PEM under header alg ES256',
            jwt_alg('HS256', $pem, { sub => $user }, { alg => 'ES256' }), $user);
    refused('jwt_es256', 'expired', jwt_alg('ES256', undef, { sub => $user, exp => time - 3600 }), $user);
    refused('jwt_es256', 'not yet valid (nbf)',
            jwt_alg('ES256', undef, { sub => $user, nbf => time + 3600 }), $user);
    refused('jwt_es256', 'no sub', jwt_alg('ES256', undef, { sub => undef }), $user);
    # a valid ES256 signature with one character changed (not the last: it has padding bits)
    my $t = jwt_alg('ES256', undef, { sub => $user });
    substr($t, -10, 1) = substr($t, -10, 1) eq 'A' ? 'B' : 'A';
    refused('jwt_es256', 'tampered signature', $t, $user);
}];

push @subtests, ['the main server still takes HS256 only' => sub {
    my $user = new_user('main');
    Apache::TestRequest::module('default');
    is(intake(token => jwt_alg('RS256', undef, { sub => $user }))->code, 401,
       'RS256 token on the main server (HS256): 401');
    accepted('default', 'HS256 on the main server', jwt(sub => $user), $user);
}];

plan tests => scalar(@subtests), need_module('mod_perl.c');
subtest $_->[0] => $_->[1] for @subtests;
