# Self-test of the test tooling: the fake Jumio (t/lib/FakeJumio.pm) and the helpers of
# t/lib/JumioTest.pm.  Talks to /fake/ directly; mod_jumio does nothing here (this file also
# passes with perl t/TEST.PL -defines FAKE_ONLY, i.e. without the module loaded).
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Test::More import => ['!plan'];
use Digest::SHA ();
use File::Temp ();
use MIME::Base64 qw(decode_base64 encode_base64);
use Time::HiRes ();

use JumioTest;

plan tests => 16;

my $UA    = 'mod_jumio-test/1.0 (Example Corp)';
my $BASIC = 'Basic ' . encode_base64('test-client:test-secret-value', '');
my $UUID  = qr/\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z/;

sub fake {
    my ($method, $path, %o) = @_;
    my %h = (Accept => 'application/json', 'User-Agent' => $UA, %{ $o{headers} || {} });
    delete $h{$_} for grep { !defined $h{$_} } keys %h;
    return request($method, "/fake$path", %o, headers => \%h);
}

sub token {
    my $res = fake(POST => '/auth/oauth2/token', body => 'grant_type=client_credentials',
                   content_type => 'application/x-www-form-urlencoded',
                   headers => { Authorization => $BASIC, 'User-Agent' => undef });
    return json_of($res)->{access_token};
}

sub account_body {
    my (%extra) = @_;
    return { customerInternalReference => 'cir-1', userReference => 'user-1',
             workflowDefinition => { key => 3, credentials => [
                 { category => 'ID', type => { values => ['ID_CARD', 'PASSPORT'] },
                   country => { values => ['USA', 'AUT'] } },
                 { category => 'FACEMAP', type => { values => ['IPROOV_STANDARD'] } } ] },
             callbackUrl => 'http://127.0.0.1/jumio/callback?jumio_token=abc',
             tokenLifetime => '30m',
             web => { successUrl => 'https://portal.example/ok', errorUrl => 'https://portal.example/err',
                      locale => 'de' },
             %extra };
}

fake_reset();

subtest 'token endpoint' => sub {
    my $res = fake(POST => '/auth/oauth2/token', body => 'grant_type=client_credentials',
                   content_type => 'application/x-www-form-urlencoded',
                   headers => { Authorization => $BASIC });
    is($res->code, 200, 'token issued');
    my $j = json_of($res);
    like($j->{access_token}, qr/\A[A-Za-z0-9_-]{20,}\z/, 'access_token');
    is($j->{expires_in}, 3600, 'expires_in');
    is($j->{token_type}, 'Bearer', 'token_type');
    ok(-f fake_dir() . "/tokens/$j->{access_token}", 'token stored in the state dir');
    my @r = fake_requests('token');
    is(scalar @r, 1, 'one token request recorded');
    is_deeply($r[0]{violations}, [], 'no violations');
    is($r[0]{answer_status}, 200, 'answer_status recorded');
    is($r[0]{headers}{'content-type'}, 'application/x-www-form-urlencoded', 'lower-case header names');
    is($r[0]{body}, 'grant_type=client_credentials', 'raw body');
    is($r[0]{seq}, 1, 'seq starts at 1');

    $res = fake(POST => '/auth/oauth2/token', body => 'grant_type=password',
                content_type => 'application/json',
                headers => { Authorization => 'Basic ' . encode_base64('test-client:wrong', '') });
    is($res->code, 401, 'wrong client secret: 401');
    my ($bad) = (fake_requests('token'))[1];
    is(scalar @{ $bad->{violations} }, 3, 'three violations recorded') or diag explain $bad->{violations};
    like("@{ $bad->{violations} }", qr/wrong client credentials/, 'credentials');
    like("@{ $bad->{violations} }", qr/Content-Type/, 'content type');
    like("@{ $bad->{violations} }", qr/grant_type/, 'grant type');
};

my $token = token();

subtest 'account create' => sub {
    my $res = fake(POST => '/account/api/v1/accounts', token => $token, body => account_body());
    is($res->code, 200, 'created') or diag $res->content;
    my $j = json_of($res);
    like($j->{account}{id}, $UUID, 'account.id');
    like($j->{workflowExecution}{id}, $UUID, 'workflowExecution.id');
    like($j->{web}{href}, qr{\Ahttps://.*locale=de\z}, 'web.href');
    ok($j->{sdk}{token}, 'sdk.token');
    like($j->{timestamp}, qr/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\z/, 'timestamp');
    is_deeply([map { $_->{category} } @{ $j->{workflowExecution}{credentials} }],
              [qw(ID FACEMAP SELFIE)], 'workflow 3 credentials');
    my $wf = fake_workflow($j->{workflowExecution}{id});
    is($wf->{status}, 'INITIATED', 'workflow state INITIATED');
    is($wf->{account_id}, $j->{account}{id}, 'workflow account');
    is($wf->{definitionKey}, '3', 'definitionKey');
    my ($rec) = fake_requests('account_create');
    is_deeply($rec->{violations}, [], 'no violations');
    is($rec->{json}{workflowDefinition}{key}, 3, 'parsed body recorded');
};

subtest 'account create violations' => sub {
    my $res = fake(POST => '/account/api/v1/accounts', token => $token,
                   headers => { Accept => undef, 'User-Agent' => undef }, body => account_body());
    is($res->code, 403, 'missing headers: 403');
    my @v = @{ (fake_requests('account_create'))[-1]{violations} };
    is(scalar @v, 2, 'two violations') or diag explain \@v;

    $res = fake(POST => '/account/api/v1/accounts', token => $token, body => {
        workflowDefinition => { key => '3' }, userReference => 'x' x 101, extra => 1,
        callbackUrl => 'ftp://nope', tokenLifetime => '1m', web => { locale => 'german' } });
    is($res->code, 400, 'bad body: 400');
    my $v = join "\n", @{ (fake_requests('account_create'))[-1]{violations} };
    like($v, qr/customerInternalReference is required/, 'cir required');
    like($v, qr/key must be a positive integer/, 'key as string refused');
    like($v, qr/userReference longer than 100/, 'userReference length');
    like($v, qr/unknown top-level key extra/, 'unknown key');
    like($v, qr/callbackUrl is not an http/, 'callbackUrl');
    like($v, qr/tokenLifetime 1m outside/, 'tokenLifetime');
    like($v, qr/web.locale/, 'locale');

    $res = fake(POST => '/account/api/v1/accounts', token => 'not-a-token', body => account_body());
    is($res->code, 401, 'unknown Bearer token: 401');
    $res = fake(POST => '/account/api/v1/accounts', body => account_body());
    is($res->code, 401, 'no Authorization: 401');
    $res = fake(POST => '/account/api/v1/accounts', token => $token, body => account_body(),
                content_type => 'text/plain');
    is($res->code, 400, 'wrong content type: 400');
    $res = fake(POST => '/account/api/v1/accounts', body => account_body(),
                headers => { Authorization => $BASIC });
    is($res->code, 200, 'Basic credentials of the client accepted');
    $res = fake(POST => '/account/api/v1/accounts', token => $token, body => account_body(
        workflowDefinition => { key => 2, credentials => [{ category => 'ID', type => { values => ['FACE'] } }] }));
    is($res->code, 400, 'bad credential type: 400');
};

my ($acc, $wf3);

subtest 'account update' => sub {
    my $first = json_of(fake(POST => '/account/api/v1/accounts', token => $token, body => account_body()));
    $acc = $first->{account}{id};
    my $res = fake(PUT => "/account/api/v1/accounts/$acc", token => $token, body => account_body());
    is($res->code, 200, 'updated');
    my $j = json_of($res);
    is($j->{account}{id}, $acc, 'same account id');
    isnt($j->{workflowExecution}{id}, $first->{workflowExecution}{id}, 'new workflow id');
    $wf3 = $j->{workflowExecution}{id};
    $res = fake(PUT => '/account/api/v1/accounts/00000000-0000-4000-8000-000000000000',
                token => $token, body => account_body());
    is($res->code, 404, 'unknown account: 404');
    is_deeply((fake_requests('account_update'))[-1]{violations}, [], '404 is not a violation');
};

subtest 'workflow 9' => sub {
    my $res = fake(POST => '/account/api/v1/accounts', token => $token,
                   body => { customerInternalReference => 'c', workflowDefinition => { key => 9 } });
    is($res->code, 400, 'workflow 9 on a new account: 400');
    my $id_cred = (grep { $_->{category} eq 'ID' } @{ fake_workflow($wf3)->{credentials} })[0]{id};
    $res = fake(PUT => "/account/api/v1/accounts/$acc", token => $token, body => {
        customerInternalReference => 'c',
        workflowDefinition => { key => 9, credentials => [{ id => $id_cred, category => 'ID' },
                                                          { category => 'FACEMAP' }] } });
    is($res->code, 200, 'workflow 9 with the enrolment credential') or diag $res->content;
    is_deeply([map { $_->{category} } @{ json_of($res)->{workflowExecution}{credentials} }],
              [qw(FACEMAP SELFIE)], 'workflow 9 credentials');
    $res = fake(PUT => "/account/api/v1/accounts/$acc", token => $token, body => {
        customerInternalReference => 'c',
        workflowDefinition => { key => 9, credentials => [
            { id => '00000000-0000-4000-8000-000000000000', category => 'ID' }] } });
    is($res->code, 400, 'credential of no enrolment: 400');
};

subtest 'status and details' => sub {
    my $base = "/retrieval/api/v1/accounts/$acc/workflow-executions/$wf3";
    my $res = fake(GET => "$base/status", token => $token);
    is($res->code, 200, 'status');
    my $j = json_of($res);
    is($j->{workflowExecution}{status}, 'INITIATED', 'INITIATED');
    is($j->{workflowExecution}{definitionKey}, '3', 'definitionKey');
    is($j->{account}{id}, $acc, 'account id');
    like($j->{workflowExecution}{href}, qr{/workflow-executions/$wf3\z}, 'href');

    fake_set_workflow($wf3, status => 'PROCESSED');
    is(json_of(fake(GET => "$base/status", token => $token))->{workflowExecution}{status},
       'PROCESSED', 'status from the state file');

    $res = fake(GET => $base, token => $token);
    is($res->code, 200, 'details');
    $j = json_of($res);
    is($j->{workflow}{id}, $wf3, 'workflow.id');
    is($j->{workflow}{status}, 'PROCESSED', 'workflow.status');
    is($j->{account}{id}, $acc, 'account.id');
    is($j->{decision}{type}, 'PASSED', 'decision PASSED');
    for my $cap (qw(usability imageChecks extraction dataChecks liveness similarity)) {
        my @types = map { $_->{decision}{type} } @{ $j->{capabilities}{$cap} || [] };
        ok(@types && !grep({ $_ ne 'PASSED' } @types), "$cap PASSED");
    }
    is($j->{capabilities}{extraction}[0]{data}{lastName}, 'DOE', 'extraction data');
    is(scalar @{ $j->{credentials} }, 3, 'credentials');

    my $details = { workflow => { id => $wf3, status => 'PROCESSED', definitionKey => '3' },
                    capabilities => { usability => [{ decision => { type => 'REJECTED' } }] } };
    fake_set_workflow($wf3, details => $details);
    is_deeply(json_of(fake(GET => $base, token => $token)), $details, 'details from the state file');

    is(fake(GET => "/retrieval/api/v1/accounts/$acc/workflow-executions/00000000-0000-4000-8000-000000000000",
            token => $token)->code, 404, 'unknown workflow: 404');
    my $other = json_of(fake(POST => '/account/api/v1/accounts', token => $token, body => account_body()));
    is(fake(GET => "/retrieval/api/v1/accounts/$other->{account}{id}/workflow-executions/$wf3/status",
            token => $token)->code, 404, 'workflow of another account: 404');
    is(fake(GET => "/retrieval/api/v1/accounts/$acc/workflow-executions/not-a-uuid",
            token => $token)->code, 400, 'id not a UUID: 400');
    is(fake(GET => "$base/status")->code, 401, 'no token: 401');
};

subtest 'control: status, body, headers, times' => sub {
    fake_control('health', { status => 503, body => '{"status":"DOWN"}', headers => { 'Retry-After' => '7' },
                             times => 2 });
    my @codes = map { fake(GET => '/status')->code } 1 .. 3;
    is_deeply(\@codes, [503, 503, 200], 'rule used twice, then consumed');
    my @h = fake_requests('health');
    is($h[0]{answer_status}, 503, 'answer_status of a fault');
    my $res = do { fake_control('health', { status => 429, times => 1, headers => { 'Retry-After' => '7' } });
                   fake(GET => '/status/') };
    is($res->code, 429, 'status from the rule');
    is($res->header('Retry-After'), '7', 'extra header');
    is(json_of($res)->{status}, 429, 'default problem body');
    fake_control('health', { status => 200, body => 'not json', content_type => 'text/html' });
    for (1 .. 2) {
        $res = fake(GET => '/status');
        is($res->content, 'not json', "forever rule $_");
        like($res->header('Content-Type'), qr{text/html}, 'content type');
    }
    fake_control('health');
    is(json_of(fake(GET => '/status'))->{status}, 'UP', 'rules cleared');
    is(fake(GET => '/status', headers => { Accept => undef })->code, 403, 'health without Accept: 403');
    is(fake(GET => '/status', headers => { 'User-Agent' => 'curl/8' })->code, 400, 'wrong User-Agent: 400');
    like((fake_requests('health'))[-1]{violations}[0], qr/User-Agent must be/, 'violation recorded');
};

subtest 'control: delay and token lifetime' => sub {
    fake_control('health', { delay => 1.2, times => 1 });
    my $t0 = Time::HiRes::time();
    my $res = fake(GET => '/status');
    my $took = Time::HiRes::time() - $t0;
    is($res->code, 200, 'delayed answer is the normal one');
    cmp_ok($took, '>=', 1.1, 'delayed');
    # 3 s: "at once" must hold on a slow (sanitizer) run too
    fake_control('token', { expires_in => 3, times => 1 });
    my $short = token();
    is(fake(GET => '/retrieval/api/v1/accounts/' . $acc, token => $short)->code,
       405, 'GET on the account path: 405 (only DELETE)');
    is(fake(DELETE => "/retrieval/api/v1/accounts/00000000-0000-4000-8000-000000000000",
            token => $short)->code, 404, 'short-lived token works at once');
    sleep 4;
    is(fake(DELETE => "/retrieval/api/v1/accounts/00000000-0000-4000-8000-000000000000",
            token => $short)->code, 401, 'and is refused once expired');
};

subtest 'unknown paths and methods' => sub {
    is(fake(GET => '/nope')->code, 404, 'unknown path: 404');
    my $res = fake(POST => '/status');
    is($res->code, 405, 'wrong method: 405');
    is($res->header('Allow'), 'GET', 'Allow');
    is((fake_requests())[-1]{endpoint}, 'unknown', 'recorded as unknown');
};

subtest 'delete' => sub {
    my $j = json_of(fake(POST => '/account/api/v1/accounts', token => $token, body => account_body()));
    my ($a, $w) = ($j->{account}{id}, $j->{workflowExecution}{id});
    is(fake(DELETE => "/retrieval/api/v1/accounts/$a/workflow-executions/$w", token => $token)->code,
       200, 'workflow deleted');
    ok(!fake_workflow($w), 'workflow gone');
    is(fake(DELETE => "/retrieval/api/v1/accounts/$a", token => $token)->code, 200, 'account deleted');
    is(fake(PUT => "/account/api/v1/accounts/$a", token => $token, body => account_body())->code, 404,
       'deleted account: PUT 404');
};

subtest 'revoked tokens' => sub {
    # only ours: revoking all would also void the tokens mod_jumio's children cached
    fake_revoke_tokens($token);
    is(fake(GET => '/retrieval/api/v1/accounts/' . $acc . "/workflow-executions/$wf3", token => $token)->code,
       401, 'revoked token: 401');
    $token = token();
    is(fake(GET => '/retrieval/api/v1/accounts/' . $acc . "/workflow-executions/$wf3", token => $token)->code,
       200, 'new token works');
};

subtest 'fake_reset' => sub {
    ok(scalar(fake_requests()) > 0, 'requests recorded');
    fake_control('health', { status => 500 });
    fake_reset();
    is(scalar(fake_requests()), 0, 'requests emptied');
    ok(!fake_workflow($wf3), 'workflows emptied');
    is(fake(GET => '/status')->code, 200, 'control emptied');
    is((fake_requests())[0]{seq}, 1, 'seq restarts');
};

subtest 'concurrent requests keep seq unique' => sub {
    fake_reset();
    my @pids;
    for my $n (1 .. 4) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if (!$pid) {
            fake(GET => '/status') for 1 .. 5;
            exit 0;
        }
        push @pids, $pid;
    }
    waitpid $_, 0 for @pids;
    my @seq = sort { $a <=> $b } map { $_->{seq} } fake_requests();
    is_deeply(\@seq, [1 .. 20], '20 requests, seq 1..20');
};

subtest 'jwt helper: HS*' => sub {
    my $t = jwt();
    my ($h, $p, $s) = split /\./, $t;
    my $hdr = JSON::PP::decode_json(b64url_decode($h));
    my $pl  = JSON::PP::decode_json(b64url_decode($p));
    is($hdr->{alg}, 'HS256', 'alg');
    is($pl->{sub}, 'user-1', 'default sub');
    cmp_ok(abs($pl->{exp} - time - 300), '<=', 2, 'default exp');
    is(b64url_decode($s), Digest::SHA::hmac_sha256("$h.$p", 'test-jwt-secret-0123456789abcdef'), 'HS256 signature');
    my $t2 = jwt(sub => 'bob', exp => undef, aud => 'portal');
    my $pl2 = JSON::PP::decode_json(b64url_decode((split /\./, $t2)[1]));
    is_deeply($pl2, { sub => 'bob', aud => 'portal' }, 'claims given, undef removed');
    my $t3 = jwt_alg('HS512', 'k', { sub => 'x' }, { kid => 'k1' });
    my ($h3, $p3, $s3) = split /\./, $t3;
    is(JSON::PP::decode_json(b64url_decode($h3))->{kid}, 'k1', 'extra header');
    is(b64url_decode($s3), Digest::SHA::hmac_sha512("$h3.$p3", 'k'), 'HS512 signature');
    like(jwt_alg('none', undef, {}), qr/\.\z/, 'alg none: empty signature');
};

subtest 'jwt helper: RS* and ES* (verified with openssl)' => sub {
    my $verify = sub {
        my ($token, $bits, $pub, $sig) = @_;
        my ($h, $p) = split /\./, $token;
        my $data = File::Temp->new; print {$data} "$h.$p"; close $data;
        my $sf = File::Temp->new; binmode $sf; print {$sf} $sig; close $sf;
        my $out = `openssl dgst -sha$bits -verify $pub -signature $sf $data 2>&1`;
        return $out =~ /Verified OK/;
    };
    for my $bits (256, 384, 512) {
        my $t = jwt_alg("RS$bits", undef, { sub => 'r' });
        ok($verify->($t, $bits, key_file('rsa_public'), b64url_decode((split /\./, $t)[2])), "RS$bits verifies");
    }
    my %ec = (256 => ['ec256', 32], 384 => ['ec384', 48], 512 => ['ec521', 66]);
    for my $bits (256, 384, 512) {
        my ($name, $n) = @{ $ec{$bits} };
        my $t = jwt_alg("ES$bits", undef, { sub => 'e' });
        my $raw = b64url_decode((split /\./, $t)[2]);
        is(length $raw, 2 * $n, "ES$bits signature is r||s of $n bytes each");
        # back to DER for openssl
        my @int = map {
            my $v = substr($raw, $_ * $n, $n);
            $v =~ s/\A\x00+//;
            $v = "\x00$v" if ord($v) & 0x80;
            "\x02" . _len(length $v) . $v
        } 0, 1;
        my $der = "\x30" . _len(length join '', @int) . join('', @int);
        ok($verify->($t, $bits, key_file("${name}_public"), $der), "ES$bits verifies");
    }
    my $pem = do { local (@ARGV, $/) = key_file('rsa_private'); <> };
    ok(jwt_alg('RS256', $pem, {}), 'PEM text as key');
};

subtest 'db_rows' => sub {
    my $db = Apache::Test::vars('t_logs') . '/jumio.db';
    if (db_is_mysql() || -e $db) {    # the MariaDB of JUMIO_TEST_MYSQL, or the SQLite file
        my @rows = db_rows('SELECT 1 AS one');
        is_deeply(\@rows, [{ one => 1 }], 'query on the module database');
    }
    else {
        ok(!eval { db_rows('SELECT 1'); 1 }, 'no database (module not loaded): db_rows dies');
    }
};

# base64url (padding optional) -> bytes; the helpers' encoding checked independently.
sub b64url_decode { my $x = shift; $x =~ tr{-_}{+/}; $x .= '=' x (-length($x) % 4); decode_base64($x) }

sub _len {
    my ($l) = @_;
    return chr $l if $l < 0x80;
    return "\x81" . chr $l;
}
