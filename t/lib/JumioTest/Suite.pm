package JumioTest::Suite;

# Helpers shared by the core Apache::Test files (t/intake.t, t/callback.t, t/poll.t,
# t/errors.t, t/flow.t): requests to the test server, answer checks exactly as SPEC §2 and
# docs/DESIGN.md say, and what the fake Jumio and the database saw.

use strict;
use warnings;

use Exporter 'import';
use Apache::Test ();
use Apache::TestRequest ();
use Test::More ();
use JumioTest ();
use FakeJumio::State ();
use HTTP::Request ();
use LWP::UserAgent ();
use JSON::PP ();
use MIME::Base64 ();
use Digest::SHA ();

our @EXPORT = qw(
    $JSON $PORT $UA_STRING $UUID_RE $UUID4_RE $CB_TOKEN_RE $RUN
    new_user rows count_rows reqs account_calls call_names uuid_v4 b64url mkjwt bearer
    request decode_json_body json_answer is_error nothing_sent nothing_stored issued_token
    no_violations
);

BEGIN { *is = \&Test::More::is; *like = \&Test::More::like; *ok = \&Test::More::ok;
        *is_deeply = \&Test::More::is_deeply; *diag = \&Test::More::diag; }

our $JSON = JSON::PP->new->utf8->canonical->allow_nonref;
our $PORT = Apache::Test::vars('port');
our $UA_STRING   = 'mod_jumio-test/1.0 (Example Corp)';
our $UUID_RE     = qr/\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\z/;
our $UUID4_RE    = qr/\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z/;
our $CB_TOKEN_RE = qr/[A-Za-z0-9_-]{43}/;
our $RUN = sprintf '%x%x', time, $$;
my $SEQ = 0;

# A user id unique to this run and call.
sub new_user { sprintf '%s-%s-%d', shift, $RUN, ++$SEQ }

sub _list { return @{ $_[0] } if @_ == 1 && ref $_[0] eq 'ARRAY'; return @_ }

# Rows of the module's database (an absent table counts as no rows).
sub rows {
    my @r = eval { JumioTest::db_rows(@_) };
    if ($@) { return () if $@ =~ /no such table|does not exist \(yet\)/i; die $@ }
    return _list(@r);
}
sub count_rows { my $sql = shift; scalar(() = rows($sql, @_)) }

# Requests the fake Jumio recorded (optionally of one endpoint).
sub reqs { _list(JumioTest::fake_requests(@_)) }
sub account_calls { grep { ($_->{endpoint} // '') =~ /\Aaccount_(?:create|update)\z/ } reqs() }
sub call_names { [ map { join ' ', $_->{method} // '?', $_->{path} // '?' } @_ ] }

sub uuid_v4 {
    my @b = map { int rand 256 } 1 .. 16;
    $b[6] = ($b[6] & 0x0f) | 0x40; $b[8] = ($b[8] & 0x3f) | 0x80;
    my $h = join '', map { sprintf '%02x', $_ } @b;
    return join '-', substr($h, 0, 8), substr($h, 8, 4), substr($h, 12, 4), substr($h, 16, 4), substr($h, 20);
}

sub b64url { my $s = MIME::Base64::encode_base64(shift, ''); $s =~ tr{+/}{-_}; $s =~ s/=+\z//; $s }

# A compact JWT built here, for the malformed and foreign-algorithm cases.
sub mkjwt {
    my ($header, $claims, $key, $sign_alg) = @_;
    my $input = b64url($JSON->encode($header)) . '.' . b64url($JSON->encode($claims));
    $sign_alg //= $header->{alg};
    my %mac = (HS256 => \&Digest::SHA::hmac_sha256, HS384 => \&Digest::SHA::hmac_sha384,
               HS512 => \&Digest::SHA::hmac_sha512);
    my $sig = $sign_alg eq 'none' ? '' : b64url($mac{$sign_alg}->($input, $key));
    return "$input.$sig";
}

# "Bearer <valid HS256 JWT for user>" made by the harness helper.
sub bearer { my ($user, %extra) = @_; 'Bearer ' . JumioTest::jwt(sub => $user, exp => time + 600, %extra) }

# One HTTP request to the test server. Options: user (valid JWT), auth (raw Authorization),
# headers [k => v, ...], body (string, sent with Content-Length), chunked [pieces], ua.
sub request {
    my ($method, $path, %o) = @_;
    my @h = @{ $o{headers} || [] };
    push @h, Authorization => bearer($o{user}) if defined $o{user};
    push @h, Authorization => $o{auth} if defined $o{auth};
    my $req;
    if ($o{chunked}) {
        my @pieces = @{ $o{chunked} };
        $req = HTTP::Request->new($method => Apache::TestRequest::resolve_url($path), \@h,
                                  sub { shift @pieces });
    }
    else {
        $req = HTTP::Request->new($method => Apache::TestRequest::resolve_url($path), \@h);
        if (defined $o{body}) {
            $req->content($o{body});
            $req->header('Content-Length' => length $o{body});
        }
        elsif ($method eq 'POST' || $method eq 'PUT') {
            $req->header('Content-Length' => 0);
        }
    }
    my $ua = $o{ua} || LWP::UserAgent->new(timeout => 60, max_redirect => 0, keep_alive => 0);
    return $ua->request($req);
}

sub decode_json_body {
    my $res = shift;
    my $d = eval { $JSON->decode($res->content) };
    return $@ ? undef : $d;
}

# Common headers of every answer; returns the decoded JSON body.
sub json_answer {
    my ($res, $name) = @_;
    like($res->header('Content-Type') // '', qr{\Aapplication/json(?:\s*;\s*charset="?utf-8"?)?\z}i,
         "$name: Content-Type application/json");
    is($res->header('Cache-Control'), 'no-store', "$name: Cache-Control no-store");
    my $d = decode_json_body($res);
    ok(defined $d || $res->content =~ /\A\s*null\s*\z/, "$name: body is JSON")
        or diag('body: ' . substr($res->content, 0, 500));
    return $d;
}

# An error answer exactly as SPEC §2 / DESIGN.md say.
sub is_error {
    my ($res, $status, $code, $name) = @_;
    is($res->code, $status, "$name: HTTP $status")
        or diag(substr($res->as_string, 0, 800));
    my $d = json_answer($res, $name);
    is(ref $d, 'HASH', "$name: body is an object");
    $d = {} unless ref $d eq 'HASH';
    is($d->{error}, $code, "$name: error $code");
    ok(defined $d->{message} && !ref $d->{message} && $d->{message} =~ /\S/, "$name: message is a sentence");
    is_deeply([ sort keys %$d ], [qw(error message)], "$name: only error and message");
    if ($status == 401) {
        is($res->header('WWW-Authenticate'), 'Bearer error="invalid_token"', "$name: WWW-Authenticate");
    }
    return $d;
}

# Nothing sent to Jumio for this request: no account call, and no retrieval call for the
# transactions named (the module's background task may be busy with older transactions).
sub nothing_sent {
    my ($name, @ids) = @_;
    my @c = grep {
        my $r = $_;
        ($r->{endpoint} // '') =~ /\Aaccount_/ || grep { index($r->{path} // '', $_) >= 0 } @ids
    } reqs();
    is_deeply(call_names(@c), [], "$name: nothing sent to Jumio");
}

sub nothing_stored {
    my ($user, $name) = @_;
    is(count_rows('SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', $user), 0,
       "$name: no transaction stored");
    is(count_rows('SELECT user_id FROM jumio_accounts WHERE user_id = ?', $user), 0,
       "$name: no account stored");
}

# 1 when the fake Jumio issued this access token (and it is still valid).
sub issued_token { FakeJumio::State->new(JumioTest::fake_dir())->token_valid($_[0]) ? 1 : 0 }

sub no_violations {
    my $name = shift;
    my @bad = grep { @{ $_->{violations} || [] } } reqs();
    is_deeply([ map { "$_->{method} $_->{path}: @{$_->{violations}}" } @bad ], [],
              "$name: the fake Jumio recorded no violations");
}

1;
