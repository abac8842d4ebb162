# t/authz.t - the authorization provider `Require jumio-verified` (docs/DESIGN.md
# "Authorization: jumio-verified"): 401 without a user, 403 unless verified, the JUMIO_*
# variables and Jumio-* headers on a grant, spoofed Jumio-* headers removed always, the
# directives JumioVerifiedDecisions / JumioVerifiedMaxAge / JumioVerifiedHeaders, <RequireAll>
# and <RequireAny>, ErrorDocument 403, staleness of the per-process cache, two nodes.
# The protected pages are served by extra httpds (JumioTest::Httpd) on the test server's
# database; users are verified through the test server and its fake Jumio.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;
use JumioTest::Httpd ();

use Digest::SHA ();
use MIME::Base64 ();
use POSIX ();
use Time::HiRes ();

plan tests => 14, need_module('mod_perl.c');

my $T = Apache::Test::vars('serverroot');
my $MODULES = $JumioTest::Httpd::MODULES;
my $CGI = "$T/cgi/authz_env.cgi";

# A user of the Basic-auth Location (JumioUserSource remote-user), unique to this run.
my $BASIC_USER = new_user('basic');
my $BASIC_PW = 'basic-pw-1';
my $HTPASSWD = Apache::Test::vars('t_logs') . "/authz-htpasswd-$$";
{
    open(my $fh, '>', $HTPASSWD) or die "$HTPASSWD: $!";
    print {$fh} "$BASIC_USER:{SHA}" . MIME::Base64::encode_base64(Digest::SHA::sha1($BASIC_PW), '') . "\n";
    close $fh;
}

# The protected Locations: /authz/<name>/env.cgi is the CGI t/cgi/authz_env.cgi.
sub authz_conf {
    my (%o) = @_;
    return join "\n",
        "LoadModule alias_module $MODULES/mod_alias.so",
        "LoadModule cgi_module $MODULES/mod_cgi.so",
        "LoadModule auth_basic_module $MODULES/mod_auth_basic.so",
        "LoadModule authn_core_module $MODULES/mod_authn_core.so",
        "LoadModule authn_file_module $MODULES/mod_authn_file.so",
        "ScriptAliasMatch ^/authz/[^/]+/env\\.cgi\$ \"$CGI\"",
        "<Directory \"$T/cgi\">", '    Require all granted', '</Directory>',
        '<Location /authz/any>', '    Require jumio-verified', '</Location>',
        '<Location /authz/key3>', '    Require jumio-verified 3', '</Location>',
        '<Location /authz/key78>', '    Require jumio-verified 7 8', '</Location>',
        '<Location /authz/warn>', '    JumioVerifiedDecisions PASSED WARNING',
        '    Require jumio-verified', '</Location>',
        '<Location /authz/fresh>', '    JumioVerifiedMaxAge 1h', '    Require jumio-verified',
        '</Location>',
        '<Location /authz/hdr>', '    JumioVerifiedHeaders on', '    Require jumio-verified',
        '</Location>',
        '<Location /authz/hdroff>', '    JumioVerifiedHeaders off', '    Require jumio-verified',
        '</Location>',
        '<Location /authz/all>', '    <RequireAll>', '        Require jumio-verified',
        '        Require ip 127.0.0.1', '    </RequireAll>', '</Location>',
        '<Location /authz/allno>', '    <RequireAll>', '        Require jumio-verified',
        '        Require ip 192.0.2.1', '    </RequireAll>', '</Location>',
        '<Location /authz/anyof>', '    <RequireAny>', '        Require ip 192.0.2.1',
        '        Require jumio-verified', '    </RequireAny>', '</Location>',
        '<Location /authz/errdoc>', '    ErrorDocument 403 /verify.html',
        '    Require jumio-verified', '</Location>',
        '<Location /authz/errcgi>', '    JumioVerifiedHeaders on',
        '    ErrorDocument 403 /authz/open/env.cgi', '    Require jumio-verified', '</Location>',
        '<Location /authz/open>', '    Require all granted', '</Location>',
        '<Location /authz/basic>', '    JumioUserSource remote-user', '    AuthType Basic',
        '    AuthName jumio-test', "    AuthUserFile \"$HTPASSWD\"", '    AuthzSendForbiddenOnFailure On',
        '    Require jumio-verified',
        '</Location>',
        ($o{extra} // ());
}

my %node = (A => extra_httpd(name => 'authzA', db => 'main', conf => authz_conf()));

# A details document whose overall decision is $decision.
sub details_doc {
    my ($t, $decision) = @_;
    my $d = { type => $decision, details => { label => $decision } };
    return {
        workflow => { id => $t->{ref}, status => 'PROCESSED', definitionKey => '3', userReference => $t->{user} },
        account => { id => $t->{account} },
        createdAt => '2024-05-01T10:00:00.000Z', completedAt => '2024-05-01T10:03:00.000Z',
        credentials => [],
        capabilities => { usability => [ { id => uuid_v4(), credentials => [], decision => $d } ] },
        decision => { %$d, risk => { score => 10 } },
    };
}

# A user whose transaction (workflow key 3) has $decision stored, through the test server.
sub decided_user {
    my ($decision, %o) = @_;
    my $t = processed_tx(tag => 'authz' . lc($decision), %o,
                         details => sub { details_doc($_[0], $decision) });
    my $d = poll_until_done($t, "$decision result") || {};
    is($d->{decision}, $decision, "a user with a $decision result");
    return $t;
}

# GET /authz/<where>/env.cgi of node $n as $user (a JWT), headers => [...]; the response.
sub page {
    my ($where, %o) = @_;
    my $n = delete $o{node} // 'A';
    return request(GET => "/authz/$where/env.cgi", base => $node{$n}->base, %o);
}

# A granted page: 200 and the CGI's JSON.
sub granted {
    my ($res, $name) = @_;
    is($res->code, 200, "$name: 200") or diag(substr($res->as_string, 0, 600));
    return json_of($res) || {};
}

sub refused {
    my ($res, $code, $name) = @_;
    is($res->code, $code, "$name: $code") or diag(substr($res->as_string, 0, 600));
}

sub iso_utc { POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $_[0]) }

my $SPOOF = [ 'Jumio-User' => 'mallory', 'Jumio-Decision' => 'PASSED', 'Jumio-Workflow-Key' => '3',
              'Jumio-Transaction-Reference' => '00000000-0000-4000-8000-000000000000',
              'Jumio-Verified-At' => '2030-01-01T00:00:00Z', 'Jumio_User' => 'mallory' ];

my ($passed, $warning, $rejected);

subtest 'configuration: workflow keys, decisions and the max age are checked at start' => sub {
    for my $bad (['Require jumio-verified three', qr/jumio-verified.*three/i],
                 ['Require jumio-verified 0', qr/jumio-verified.*'0'/i],
                 ["JumioVerifiedDecisions REJECTED\nRequire jumio-verified", qr/JumioVerifiedDecisions/],
                 ["JumioVerifiedMaxAge 10x\nRequire jumio-verified", qr/JumioVerifiedMaxAge/]) {
        my $h = JumioTest::Httpd->new(name => 'authzbad', fake => 'http://127.0.0.1:1/fake', no_start => 1,
                                      t_dir => $T, logs => Apache::Test::vars('t_logs'),
                                      conf => "<Location /x>\n$bad->[0]\n</Location>");
        my $out = `$JumioTest::Httpd::HTTPD -t -f '@{[ $h->conf_file ]}' 2>&1`;
        isnt($? >> 8, 0, "refused: $bad->[0]") or diag($out);
        like($out, $bad->[1], "the error names it: $bad->[0]");
    }
};

subtest 'granted: the JUMIO_* variables for CGI, the user set' => sub {
    fake_reset();
    $passed = decided_user('PASSED');
    my $row = tx_row($passed);
    my $d = granted(page('any', user => $passed->{user}), 'PASSED user');
    is($d->{JUMIO_USER}, $passed->{user}, 'JUMIO_USER');
    is($d->{JUMIO_DECISION}, 'PASSED', 'JUMIO_DECISION');
    is($d->{JUMIO_WORKFLOW_KEY}, '3', 'JUMIO_WORKFLOW_KEY');
    is($d->{JUMIO_TRANSACTION_REFERENCE}, $passed->{ref}, 'JUMIO_TRANSACTION_REFERENCE');
    ok($row->{final_at}, 'final_at stored');
    is($d->{JUMIO_VERIFIED_AT}, iso_utc($row->{final_at}), 'JUMIO_VERIFIED_AT: final_at in ISO 8601 UTC');
    is($d->{REMOTE_USER}, $passed->{user}, 'REMOTE_USER is the token\'s user');
    ok(!grep({ /\AHTTP_JUMIO/ } keys %$d), 'no Jumio-* request headers (JumioVerifiedHeaders off by default)');
};

subtest '401 without a user, with WWW-Authenticate: Bearer' => sub {
    my $none = page('any');
    refused($none, 401, 'no Authorization');
    like($none->header('WWW-Authenticate') // '', qr/\ABearer\b/, 'no Authorization: WWW-Authenticate Bearer');
    my $bad = page('any', token => jwt(sub => $passed->{user}) . 'x');
    refused($bad, 401, 'a bad signature');
    is($bad->header('WWW-Authenticate'), 'Bearer error="invalid_token"', 'bad token: invalid_token');
    my $expired = page('any', token => jwt(sub => $passed->{user}, exp => time - 3600));
    refused($expired, 401, 'an expired token');
    refused(page('any', auth => 'Basic ' . MIME::Base64::encode_base64('a:b', '')), 401, 'Basic instead of Bearer');
    unlike($node{A}->error_log_text, qr/AH00027|AH01796/, 'no "authentication not configured" 500 on the way');
};

subtest '403 when not verified: no result, pending, REJECTED, WARNING (by default)' => sub {
    refused(page('any', user => new_user('nobody')), 403, 'a user without a transaction');
    my $pending = start_tx(tag => 'authzpending');
    refused(page('any', user => $pending->{user}), 403, 'a user with a pending transaction');
    $rejected = decided_user('REJECTED');
    refused(page('any', user => $rejected->{user}), 403, 'REJECTED');
    refused(page('warn', user => $rejected->{user}), 403, 'REJECTED with JumioVerifiedDecisions PASSED WARNING');
    $warning = decided_user('WARNING');
    refused(page('any', user => $warning->{user}), 403, 'WARNING with the default JumioVerifiedDecisions PASSED');
    my $d = granted(page('warn', user => $warning->{user}), 'WARNING with JumioVerifiedDecisions PASSED WARNING');
    is($d->{JUMIO_DECISION}, 'WARNING', 'JUMIO_DECISION WARNING');
    granted(page('warn', user => $passed->{user}), 'PASSED with JumioVerifiedDecisions PASSED WARNING');
};

subtest 'workflow keys of the Require line' => sub {
    granted(page('key3', user => $passed->{user}), 'key 3 for a key-3 result');
    refused(page('key78', user => $passed->{user}), 403, 'keys 7 8 for a key-3 result');
    my $other = decided_user('PASSED');
    rows('UPDATE jumio_transactions SET workflow_key = 8 WHERE workflow_id = ?', $other->{ref});
    my $d = granted(page('key78', user => $other->{user}), 'keys 7 8 for a key-8 result');
    is($d->{JUMIO_WORKFLOW_KEY}, '8', 'JUMIO_WORKFLOW_KEY 8');
    refused(page('key3', user => $other->{user}), 403, 'key 3 for a key-8 result');
};

subtest 'spoofed Jumio-* request headers are removed, on a grant and on a refusal' => sub {
    my $off = granted(page('any', user => $passed->{user}, headers => $SPOOF), 'grant, headers off');
    ok(!grep({ /\AHTTP_JUMIO/ } keys %$off), 'headers off: no Jumio-* header reaches the page')
        or diag(explain($off));
    is($off->{JUMIO_USER}, $passed->{user}, 'JUMIO_USER is the verified user');
    my $off2 = granted(page('hdroff', user => $passed->{user}, headers => $SPOOF), 'grant, JumioVerifiedHeaders off');
    ok(!grep({ /\AHTTP_JUMIO/ } keys %$off2), 'JumioVerifiedHeaders off: nothing forwarded');
    my $on = granted(page('hdr', user => $passed->{user}, headers => $SPOOF), 'grant, JumioVerifiedHeaders on');
    my $row = tx_row($passed);
    is_deeply({ map { $_ => $on->{$_} } grep { /\AHTTP_JUMIO/ } keys %$on },
              { HTTP_JUMIO_USER => $passed->{user}, HTTP_JUMIO_DECISION => 'PASSED',
                HTTP_JUMIO_WORKFLOW_KEY => '3', HTTP_JUMIO_TRANSACTION_REFERENCE => $passed->{ref},
                HTTP_JUMIO_VERIFIED_AT => iso_utc($row->{final_at}) },
              'JumioVerifiedHeaders on: exactly the module\'s Jumio-* headers, none of the client\'s');
    # a refusal whose ErrorDocument is the CGI: what it sees of the request's headers
    my $res = page('errcgi', user => $rejected->{user}, headers => $SPOOF);
    my $d = json_of($res) || {};
    is_deeply([ sort grep { /JUMIO/ } keys %$d ], [], 'refused (ErrorDocument CGI): no Jumio-* header, no JUMIO_* variable')
        or diag(explain($d));
    my $nouser = json_of(page('errcgi', headers => $SPOOF)) || {};
    is_deeply([ sort grep { /JUMIO/ } keys %$nouser ], [], 'no user: no Jumio-* header reaches anything')
        or diag(explain($nouser));
};

subtest 'ErrorDocument 403 sends a refused user to the verification page' => sub {
    my $res = page('errdoc', user => $rejected->{user});
    is($res->code, 403, '403');
    like($res->content, qr/verify-page-marker/, 'the ErrorDocument page is the body');
    granted(page('errdoc', user => $passed->{user}), 'a verified user gets the page');
};

subtest '<RequireAll> and <RequireAny>' => sub {
    my $d = granted(page('all', user => $passed->{user}), 'RequireAll (jumio-verified, ip 127.0.0.1): verified');
    is($d->{JUMIO_USER}, $passed->{user}, 'RequireAll: JUMIO_USER');
    refused(page('all', user => $rejected->{user}), 403, 'RequireAll: not verified');
    refused(page('all'), 401, 'RequireAll: no user');
    refused(page('allno', user => $passed->{user}), 403, 'RequireAll with an ip that does not match: verified user');
    granted(page('anyof', user => $passed->{user}), 'RequireAny (ip no, jumio-verified): verified');
    refused(page('anyof', user => $rejected->{user}), 403, 'RequireAny: not verified');
};

# (an authenticated user refused by any provider gets mod_authz_core's 401 unless
# AuthzSendForbiddenOnFailure On, as docs/DESIGN.md says)
subtest 'JumioUserSource remote-user: the Location\'s AuthType supplies the user' => sub {
    my $auth = 'Basic ' . MIME::Base64::encode_base64("$BASIC_USER:$BASIC_PW", '');
    my $none = page('basic');
    refused($none, 401, 'no credentials');
    like($none->header('WWW-Authenticate') // '', qr/\ABasic\b/, 'WWW-Authenticate Basic (mod_auth_basic)');
    refused(page('basic', auth => $auth), 403, 'authenticated, not verified');
    my $refused_at = Time::HiRes::time();
    decided_user('PASSED', user => $BASIC_USER);
    # the refusal above ("no result") may be cached by its child for up to 1 s
    my $left = $refused_at + 1.2 - Time::HiRes::time();
    Time::HiRes::sleep($left) if $left > 0;
    my $d = granted(page('basic', auth => $auth), 'authenticated and verified');
    is($d->{JUMIO_USER}, $BASIC_USER, 'JUMIO_USER is r->user');
};

subtest 'JumioVerifiedMaxAge: an old result is not verified (within about a second)' => sub {
    my $t = decided_user('PASSED');
    granted(page('fresh', user => $t->{user}), 'a fresh result, max age 1h');
    rows('UPDATE jumio_transactions SET final_at = final_at - 7200 WHERE workflow_id = ?', $t->{ref});
    my $t0 = Time::HiRes::time();
    ok(wait_until(5, sub { page('fresh', user => $t->{user})->code == 403 }), 'a result 2 h old: 403');
    cmp_ok(Time::HiRes::time() - $t0, '<', 3.5, 'within the 1 s staleness bound (loosely)');
    granted(page('any', user => $t->{user}), 'no max age: still verified');
};

subtest 'an erase takes effect within about a second' => sub {
    my $t = decided_user('PASSED');
    my $ua = keep_alive_ua();
    granted(page('any', user => $t->{user}, ua => $ua), 'verified (cached by this child)');
    my $e = request(DELETE => '/jumio/erase', user => $t->{user});
    is($e->code, 200, 'erased through the test server') or diag($e->as_string);
    my $t0 = Time::HiRes::time();
    ok(wait_until(5, sub { page('any', user => $t->{user}, ua => $ua)->code == 403 }), 'then 403');
    cmp_ok(Time::HiRes::time() - $t0, '<', 3.5, 'within the 1 s staleness bound (loosely)');
};

subtest 'two nodes on one database: verified on both, an erase on both' => sub {
    $node{B} = extra_httpd(name => 'authzB', db => 'main', conf => authz_conf(), mpm => 'event');
    my $t = decided_user('PASSED');
    granted(page('any', user => $t->{user}, node => $_), "node $_: verified") for qw(A B);
    my $e = request(DELETE => '/jumio/erase', user => $t->{user});
    is($e->code, 200, 'erased through the test server');
    for my $n (qw(A B)) {
        ok(wait_until(5, sub { page('any', user => $t->{user}, node => $n)->code == 403 }), "node $n: 403 after the erase");
    }
};

subtest 'event MPM: the same answers' => sub {
    granted(page('any', user => $passed->{user}, node => 'B'), 'verified');
    refused(page('any', user => $rejected->{user}, node => 'B'), 403, 'REJECTED');
    refused(page('any', node => 'B'), 401, 'no user');
};

subtest 'no crash' => sub {
    for my $n (sort keys %node) {
        is_deeply([ $node{$n}->crashes ], [], "node $n: no crash in its error_log");
    }
};

unlink $HTPASSWD;
