# The front-end kit (kit/jumio-portal.js) end to end in a real browser: headless Debian
# chromium, driven by puppeteer-core (t/browser/journeys.js), runs the demo portal page
# (demo/index.html.in) against the test server and the fake Jumio's web journey
# (t/lib/FakeJumioWeb.pm): PASSED, REJECTED, SESSION_EXPIRED, web client error 9822, foreign
# postMessages ignored, polling paused while hidden and stopped when done, CORS from an
# allowed and from a foreign origin; the members' area behind `Require jumio-verified`
# (demo/members.html) asks to sign in (401), is locked before and after REJECTED (403) and
# opens after PASSED (200). Screenshots: t/logs/browser-*.png.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;
use Cwd ();
use File::Path qw(make_path);
use IPC::Open3 ();
use Symbol ();

my $TOP = Cwd::abs_path('t/..');
my $CHROMIUM = $ENV{JUMIO_CHROMIUM} // '/usr/bin/chromium';
my $BROWSER_DIR = "$TOP/t/browser";

# What the test needs: chromium, node, and puppeteer-core (installed here from
# t/browser/package-lock.json when scripts/test did not do it already).
sub missing {
    return "no chromium at $CHROMIUM (apt-get install chromium)" unless -x $CHROMIUM;
    return 'no node (apt-get install nodejs)' unless system('node --version >/dev/null 2>&1') == 0;
    return undef if -d "$BROWSER_DIR/node_modules/puppeteer-core";
    return 'no npm to install puppeteer-core (apt-get install npm)'
        unless system('npm --version >/dev/null 2>&1') == 0;
    local $ENV{PUPPETEER_SKIP_DOWNLOAD} = 1;
    local $ENV{LD_PRELOAD};
    delete $ENV{LD_PRELOAD};
    local $ENV{npm_config_cache} = "$TOP/t/logs/npm-cache";
    system("cd '$BROWSER_DIR' && npm ci --ignore-scripts --no-audit --no-fund >&2") == 0
        or BAIL_OUT("npm ci in t/browser failed");
    return undef;
}

if (my $why = missing()) {
    plan skip_all => "browser test skipped: $why";
}
plan tests => 8, need_module('mod_perl.c');

my %users = map { $_ => new_user("kit-$_") } qw(passed rejected expired error cors foreign);
my $web_base = "http://127.0.0.1:$PORT/fake/web";
fake_control($_, { web_base => $web_base }) for qw(account_create account_update);
# the rule ends with this file, also when it dies (other files expect Jumio's https links)
my $MAIN_PID = $$;
END { fake_control($_) for $$ == ($MAIN_PID // 0) ? qw(account_create account_update) : () }

# The demo page with tokens for this run's users, as scripts/demo renders it.
sub render {
    my ($file, %o) = @_;
    open(my $in, '<', "$TOP/demo/index.html.in") or die "demo/index.html.in: $!";
    my $html = do { local $/; <$in> };
    my $config = $JSON->encode({
        intakeUrl => "$o{api}/jumio/kit/intake", pollUrl => "$o{api}/jumio/kit/poll",
        users => [map { { id => $users{$_}, name => "Test user $_",
                          token => JumioTest::jwt(sub => $users{$_}, exp => time + 900) } } sort keys %users],
        %{ $o{config} || {} },
    });
    $config =~ s{</}{<\\/}g;
    $html =~ s/\@KIT_URL\@/$o{api}\/jumio\/jumio-portal.js/g;
    $html =~ s/\@MODE\@/the bundled FAKE Jumio (test server)/g;
    $html =~ s/\@CONFIG\@/$config/g;
    open(my $out, '>', $file) or die "$file: $!";
    print {$out} $html;
    close $out or die "$file: $!";
}
my $kit_dir = "$TOP/t/htdocs/kit";
make_path($kit_dir, "$TOP/t/logs");
# the members' area (demo/members.html) on the same-origin page only: the others show none
render("$kit_dir/index.html", api => '', config => { membersUrl => '/kit/members.html' });
render("$kit_dir/cross.html", api => "http://127.0.0.1:$PORT");
# JumioUserSource remote-user (Basic auth, t/conf/htpasswd): no token at all
render("$kit_dir/remote-user.html", api => '', config => {
    intakeUrl => '/jumio/intake-ru', pollUrl => '/jumio/poll-ru',
    users => [{ id => 'alice', name => 'alice (Basic auth)', token => undef }] });
system('cp', "$TOP/demo/journey-end.html", "$kit_dir/journey-end.html") == 0 or die 'cp';
system('cp', "$TOP/demo/members.html", "$kit_dir/members.html") == 0 or die 'cp';

subtest 'the kit and the demo page are served' => sub {
    my $res = JumioTest::request(GET => '/jumio/jumio-portal.js');
    is($res->code, 200, 'GET /jumio/jumio-portal.js: 200');
    like($res->header('Content-Type') // '', qr{javascript}, 'as JavaScript');
    like($res->decoded_content, qr/JumioPortal/, 'the kit');
    is(JumioTest::request(GET => '/kit/index.html')->code, 200, 'demo page 200');
};

subtest "the fake's web journey ends at the success / error URL with Jumio's parameters" => sub {
    my $t = start_tx(user => new_user('kit-redirect'), path => '/jumio/kit/intake', calls => 1);
    my $wf = fake_workflow($t->{ref});
    like($t->{answer}{link}, qr{\A\Q$web_base\E/\Q$t->{ref}\E\?authorizationToken=}, 'link opens the fake web journey');
    my $page = JumioTest::request(GET => $t->{answer}{link});
    like($page->decoded_content, qr/eventType: 510/, 'journey page posts eventType 510 messages');
    like(JumioTest::request(GET => "/fake/web/$t->{ref}?authorizationToken=wrong")->decoded_content,
         qr/error 9200/, 'a wrong authorization token gives error 9200');
    my $res = JumioTest::request(POST => "/fake/web/$t->{ref}/error", body => 'code=9822',
                                 content_type => 'application/x-www-form-urlencoded');
    is($res->code, 303, 'error: 303');
    my $loc = $res->header('Location') // '';
    like($loc, qr{\Ahttp://127\.0\.0\.1:$PORT/kit/journey-end\.html\?}, 'to the error URL');
    like($loc, qr/[?&]acquisitionStatus=ERROR(&|\z)/, 'acquisitionStatus=ERROR');
    like($loc, qr/[?&]errorCode=9822(&|\z)/, 'errorCode=9822');
    like($loc, qr/[?&]workflowExecutionId=\Q$t->{ref}\E(&|\z)/, 'workflowExecutionId');
    like($loc, qr/[?&]accountId=\Q$t->{account}\E(&|\z)/, 'accountId');
    like($loc, qr/[?&]customerInternalReference=\Q$wf->{customerInternalReference}\E(&|\z)/, 'customerInternalReference');
    is(fake_workflow($t->{ref})->{status}, 'INITIATED', 'an error leaves the workflow as it is');
    $res = JumioTest::request(POST => "/fake/web/$t->{ref}/passed", body => '',
                              content_type => 'application/x-www-form-urlencoded');
    is($res->code, 303, 'passed: 303');
    like($res->header('Location') // '', qr/[?&]acquisitionStatus=SUCCESS(&|\z)/, 'acquisitionStatus=SUCCESS');
    unlike($res->header('Location') // '', qr/errorCode/, 'no errorCode');
    is(tx_row($t)->{status}, 'PROCESSED', "the fake's callback reached the module");
};

# The journeys in chromium; each result line of t/browser/journeys.js becomes a check.
my (@results, %info, $done);
subtest 'browser journeys (t/browser/journeys.js)' => sub {
    my $arg = $JSON->encode({ port => $PORT, users => { %users, remote_user => 'alice' }, shots => "$TOP/t/logs", chromium => $CHROMIUM });
    my $err = Symbol::gensym();
    my $started = time;
    # node and chromium are not the module: without the sanitizer runtime of scripts/test's
    # ASan pass (httpd keeps it)
    local $ENV{LD_PRELOAD};
    delete $ENV{LD_PRELOAD};
    my $pid = IPC::Open3::open3(my $in, my $out, $err, 'node', "$BROWSER_DIR/journeys.js", $arg);
    close $in;
    local $SIG{ALRM} = sub { kill 'KILL', $pid; die "browser journeys took over 240 s\n" };
    alarm 240;
    my @stderr;
    while (my $line = <$out>) {
        my $r = eval { $JSON->decode($line) } or do { diag("journeys.js: $line"); next };
        if ($r->{done}) { $done = 1; next }
        if ($r->{info}) { $info{"$r->{name} $r->{info}"} = $r->{$r->{info}}; next }
        ok($r->{ok}, $r->{name}) or diag($r->{diag} // '');
    }
    @stderr = <$err>;
    waitpid $pid, 0;
    alarm 0;
    ok($done && $? == 0, 'the journeys ran to the end') or diag(join '', @stderr);
    note(sprintf 'browser journeys: %d s, %s poll requests in the PASSED journey, members\' area open after %s',
         time - $started, $info{'passed polls'} // '?', $info{'passed members'} // '?');
};

# What the module stored for each journey.
sub tx_of { (rows('SELECT status, decision FROM jumio_transactions WHERE user_id = ?', $_[0]))[0] || {} }
is_deeply(tx_of($users{passed}), { status => 'PROCESSED', decision => 'PASSED' }, 'passed: stored PROCESSED, PASSED');
is_deeply(tx_of($users{rejected}), { status => 'PROCESSED', decision => 'REJECTED' }, 'rejected: stored PROCESSED, REJECTED');
is(tx_of($users{expired})->{status}, 'SESSION_EXPIRED', 'expired: stored SESSION_EXPIRED');
is(tx_of($users{error})->{status}, 'INITIATED', 'error: the transaction stays INITIATED');
ok(!fake_user_calls($users{foreign}) && !tx_count($users{foreign}),
   'foreign origin: no intake reached the module (nothing sent to Jumio, nothing stored)');

