# Attacks a security reviewer tries first that the other files do not: deeply nested and
# oversized bodies, injection-looking references and ids, remote-user without a user, bytes
# that are not UTF-8. Each asserts the status, the error code, and that nothing was stored or
# sent to Jumio.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

plan tests => 8, need_module('mod_perl.c');

subtest 'deeply nested and oversized intake bodies' => sub {
    JumioTest::fake_reset();
    my $user = new_user('deep');
    my $deep = ('{"a":' x 40) . '1' . ('}' x 40);
    my $res = request(POST => '/jumio/intake', user => $user, body => $deep,
                      headers => ['Content-Type' => 'application/json']);
    is_error($res, 400, 'bad_request', 'JSON nested 40 deep');
    my $arr = '{"callbackUrl":' . ('[' x 5000) . (']' x 5000) . '}';
    $res = request(POST => '/jumio/intake-small', user => $user, body => $arr,
                   headers => ['Content-Type' => 'application/json']);
    is_error($res, 413, 'body_too_large', 'nested arrays beyond JumioMaxBody');
    $res = request(POST => '/jumio/intake', user => $user, body => "{\"callbackUrl\":\"\xff\xfe\"}",
                   headers => ['Content-Type' => 'application/json']);
    is_error($res, 400, 'bad_request', 'invalid UTF-8 in the body');
    $res = request(POST => '/jumio/intake', user => $user, body => "{\"x\":1}\0",
                   headers => ['Content-Type' => 'application/json']);
    is_error($res, 400, 'bad_request', 'NUL byte after the JSON');
    nothing_sent('bodies');
    nothing_stored($user, 'bodies');
};

subtest 'injection-looking transaction references on poll: 404, no SQL, no URL' => sub {
    JumioTest::fake_reset();
    my $user = new_user('inj');
    for my $ref ("' OR '1'='1", '11111111-1111-1111-1111-111111111111; DROP TABLE jumio_transactions',
                 '../../api/v1/accounts', '%00', 'a' x 2000, '11111111-1111-1111-1111-11111111111g') {
        my $res = request(GET => '/jumio/poll', user => $user, headers => ['X-Transaction-Reference' => $ref]);
        is_error($res, 404, 'not_found', 'reference ' . substr($ref, 0, 40));
    }
    ok(count_rows('SELECT workflow_id FROM jumio_transactions') >= 0, 'jumio_transactions still there');
    is_deeply(call_names(fake_requests()), [], 'nothing sent to Jumio');
};

subtest 'injection-looking ids in callbacks: 400, nothing logged' => sub {
    JumioTest::fake_reset();
    my $before = count_rows('SELECT id FROM jumio_callbacks');
    for my $id ("x' OR 1=1 --", '22222222-2222-2222-2222-222222222222/../../evil',
                "22222222-2222-2222-2222-22222222222\x{e9}") {
        my $res = JumioTest::callback({ workflowExecution => { id => $id, status => 'PROCESSED' },
                                        account => { id => '11111111-1111-4111-8111-111111111111' } });
        is_error($res, 400, 'bad_request', "workflowExecution.id " . substr($id, 0, 30));
    }
    my $form = JumioTest::callback('workflowExecution.id=%27%3BDROP&workflowExecution.status=PROCESSED'
                                   . '&account.id=11111111-1111-4111-8111-111111111111',
                                   content_type => 'application/x-www-form-urlencoded');
    is_error($form, 400, 'bad_request', 'form callback with an injection id');
    is(count_rows('SELECT id FROM jumio_callbacks'), $before, 'nothing appended to jumio_callbacks');
    is_deeply(call_names(fake_requests()), [], 'nothing sent to Jumio');
};

subtest 'remote-user without an authenticated user: 401, nothing sent' => sub {
    JumioTest::fake_reset();
    my $res = request(POST => '/jumio/intake-ru-open', user => new_user('ru'));
    is_error($res, 401, 'invalid_token', 'JumioUserSource remote-user, no auth module');
    nothing_sent('remote-user');
};

subtest 'a JWT with control characters or a huge size in the user claim' => sub {
    JumioTest::fake_reset();
    for my $sub ("evil\nuser", "user\x00x", 'u' x 300) {
        my $res = request(POST => '/jumio/intake', auth => 'Bearer ' . JumioTest::jwt(sub => $sub));
        is_error($res, 401, 'invalid_token', 'user claim ' . length($sub) . ' chars');
    }
    my $res = request(POST => '/jumio/intake', auth => 'Bearer ' . ('a' x 8000) . '.b.c');
    is_error($res, 401, 'invalid_token', 'an 8 KB token');
    # Past httpd's LimitRequestFieldSize (8190) the core itself answers 400 before any module.
    $res = request(POST => '/jumio/intake', auth => 'Bearer ' . ('a' x 9000) . '.b.c');
    is($res->code, 400, 'a header over LimitRequestFieldSize: 400 from httpd');
    nothing_sent('user claims');
};

subtest 'a forged callback: 403, one warning line with the remote address, nothing changed' => sub {
    JumioTest::fake_reset();
    my $t = start_tx(tag => 'forge');
    my $ref = $t->{ref};
    my $logf = Apache::Test::vars('t_logs') . '/error_log';
    my $before = -s $logf;
    is_error(send_callback({ %$t, token => 'A' x 43 }, 'PROCESSED'), 403, 'forbidden', 'forged token');
    is(count_rows('SELECT id FROM jumio_callbacks WHERE workflow_id = ?', $ref), 0, 'nothing logged');
    is(tx_row($ref)->{status}, 'INITIATED', 'status unchanged');
    open my $fh, '<', $logf or die "$logf: $!";
    seek $fh, $before, 0;
    my @lines = grep { /\[jumio:warn\].*callback for \Q$ref\E/ } <$fh>;
    is(scalar @lines, 1, 'one warning line');
    like($lines[0] // '', qr/from 127\.0\.0\.1 refused/, 'it names the remote address');
    unlike($lines[0] // '', qr/AAAAAAAA/, 'it does not echo the token');
};

subtest 'Jumio answers: redirects not followed, oversized answers refused' => sub {
    JumioTest::fake_reset();
    my $user = new_user('redir');
    JumioTest::fake_control('account_create',
        { status => 302, body => '', headers => { Location => "http://127.0.0.1:$PORT/fake/evil" }, times => 1 });
    is_error(request(POST => '/jumio/intake', user => $user), 502, 'upstream_error', 'account answer 302');
    is(scalar(grep { ($_->{path} // '') =~ m{/fake/evil} } fake_requests()), 0, 'the redirect was not followed');
    my $big = '{"pad":"' . ('x' x (1024 * 1024 + 10)) . '"}';
    JumioTest::fake_control('account_create',
        { status => 200, body => $big, content_type => 'application/json', times => 1 });
    is_error(request(POST => '/jumio/intake', user => $user), 502, 'upstream_error', 'account answer over 1 MiB');
    nothing_stored($user, 'redirect and oversized answers');
    JumioTest::fake_control('account_create');
};

subtest 'secrets stay out of the error log' => sub {
    my $log = do { local (@ARGV, $/) = (Apache::Test::vars('t_logs') . '/error_log'); <> } // '';
    for my $secret ('test-secret-value', 'test-jwt-secret-0123456789abcdef', 'test-userref-key') {
        unlike($log, qr/\Q$secret\E/, "no '$secret' in error_log");
    }
    my $ours = join '', grep { /\[jumio:/ } split /^/, $log;
    ok(length $ours, "mod_jumio's lines found");
    unlike($ours, qr/jumio_token=[A-Za-z0-9_-]{20}/, 'no callback signing token in our log lines');
    unlike($ours, qr/Bearer [A-Za-z0-9_-]{20}|eyJ[A-Za-z0-9_-]{20}/, 'no bearer token or JWT in our log lines');
};
