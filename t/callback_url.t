# t/callback_url.t - a body callbackUrl is checked parsed, not as a string prefix: crafted URLs
# that start with an allowed prefix (dot segments, backslashes, encoded slashes, non-ASCII,
# fragments, userinfo, an own jumio_token, invalid escapes) and other schemes, ports or host
# names are refused; a deeper path or a query below the prefix is signed once and called back.
# The plain cases (other host, other path, relative, empty, host/path/port prefix tricks) are
# in t/errors.t. Asserts docs/DESIGN.md "Intake callbackUrl"; see t/README.md for the fake Jumio.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

# /jumio/intake allows the prefixes http://127.0.0.1:<port>/jumio/callback and .../callback2
my $CB = "http://127.0.0.1:$PORT/jumio/callback";
my @subtests;

# POST an intake as $user with this body callbackUrl; returns the response.
sub intake_with {
    my ($user, $url) = @_;
    return request(POST => '/jumio/intake', user => $user, body => $JSON->encode({ callbackUrl => $url }),
                   headers => ['Content-Type' => 'application/json']);
}

push @subtests, ['crafted callbackUrls below an allowed prefix: 400 callback_url_not_allowed' => sub {
    my @cases = (
        [ 'dot segments',                 "$CB/../../evil" ],
        [ 'dot segments at the end',      "$CB/.." ],
        [ 'encoded dot segments',         "$CB/%2e%2e/%2e%2e/evil" ],
        [ 'mixed-case encoded dots',      "$CB/%2E./x" ],
        [ 'single dot segment',           "$CB/./x" ],
        [ 'backslashes',                  "$CB/..\\..\\evil" ],
        [ 'encoded backslash',            "$CB/..%5c..%5cevil" ],
        [ 'encoded slash',                "$CB/..%2f..%2fevil" ],
        [ 'non-ASCII path',               "$CB/caf\x{e9}" ],
        [ 'control byte',                 "$CB/a\tb" ],
        [ 'DEL byte',                     "$CB/a\x7fb" ],
        [ 'fragment',                     "$CB/x#frag" ],
        [ 'empty fragment',               "$CB/x#" ],
        [ 'own jumio_token',              "$CB/x?a=1&jumio_token=attacker" ],
        [ 'own JUMIO_TOKEN',              "$CB/x?JUMIO_TOKEN=attacker" ],
        [ 'own encoded jumio%5ftoken',    "$CB/x?jumio%5ftoken=attacker" ],
        [ 'invalid percent escape',       "$CB/%zz" ],
        [ 'truncated percent escape',     "$CB/a%2" ],
        [ 'userinfo user:pw@',            "http://user:pw\@127.0.0.1:$PORT/jumio/callback/x" ],
        [ 'allowed host as userinfo',     "http://127.0.0.1:$PORT\@evil.example/jumio/callback/x" ],
        [ 'other scheme https',           "https://127.0.0.1:$PORT/jumio/callback/x" ],
        [ 'other scheme ftp',             "ftp://127.0.0.1:$PORT/jumio/callback/x" ],
        [ 'other port 8443',              "http://127.0.0.1:8443/jumio/callback/x" ],
        [ 'default port, not the allowed', "http://127.0.0.1/jumio/callback/x" ],
        [ 'other name of the host',       "http://localhost:$PORT/jumio/callback/x" ],
    );
    for my $c (@cases) {
        my ($name, $url) = @$c;
        JumioTest::fake_reset();
        my $user = new_user('cburl');
        is_error(intake_with($user, $url), 400, 'callback_url_not_allowed', $name);
        nothing_sent($name);
        nothing_stored($user, $name);
    }
}];

push @subtests, ['a deeper path and a query below the prefix: signed once, called back' => sub {
    my @cases = (
        [ 'deeper path',            "$CB/deeper/x" ],
        [ 'query',                  "$CB/deeper?src=portal&x=jumio_token" ],
        [ 'prefix itself, a query', "$CB?a=1" ],
    );
    for my $c (@cases) {
        my ($name, $url) = @$c;
        JumioTest::fake_reset();
        my $t = start_tx(tag => 'cbok', name => $name, calls => 1,
                         body => $JSON->encode({ callbackUrl => $url }),
                         headers => ['Content-Type' => 'application/json']);
        like($t->{token} // '', qr/\A$CB_TOKEN_RE\z/, "$name: a signing token");
        is($t->{url}, $url . ($url =~ /\?/ ? '&' : '?') . 'jumio_token=' . ($t->{token} // ''),
           "$name: sent as given with jumio_token appended");
        is(scalar(() = $t->{url} =~ /jumio_token=/gi), 1, "$name: exactly one jumio_token parameter");
        my $body = { workflowExecution => { id => $t->{ref}, status => 'PROCESSED', definitionKey => '3' },
                     account => { id => $t->{account} }, callbackSentAt => '2024-05-01T10:00:00.000Z' };
        my $res = JumioTest::callback($body, path => $t->{url});
        is($res->code, 200, "$name: the callback at that URL is accepted") or diag(substr($res->as_string, 0, 600));
        is(tx_row($t)->{status}, 'PROCESSED', "$name: status PROCESSED");
        no_violations($name);
    }
}];

plan tests => scalar(@subtests), need_module('mod_perl.c');
subtest $_->[0] => $_->[1] for @subtests;
