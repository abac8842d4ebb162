package JumioTest;

# Helpers for the Apache::Test suite of mod_jumio (see t/README.md):
# JWTs, the fake Jumio's state (FakeJumio::State), the module's database, requests to the
# module's handlers, extra httpd instances (JumioTest::Httpd).  The checks and transaction
# helpers the test files share are in JumioTest::Kit, on top of these.

use strict;
use warnings;

use Exporter 'import';
use Carp qw(croak);
use Digest::SHA ();
use Fcntl qw(:flock);
use File::Basename qw(dirname);
use File::Spec ();
use File::Temp ();
use Time::HiRes ();

use Apache::Test ();
use Apache::TestRequest ();
use HTTP::Request ();
use LWP::UserAgent ();

use FakeJumio::State qw(b64url uuid_v4);

our @EXPORT = qw(
    jwt jwt_alg uuid_v4
    fake_reset fake_requests fake_control fake_workflow fake_set_workflow
    db_rows db_is_mysql db_connect
    request intake poll callback json_of keep_alive_ua wait_until
    fake_dir fake_revoke_tokens key_file
    jwk fake_set_jwks
    extra_httpd
);
our @EXPORT_OK = qw(ensure_keys b64url $JWT_SECRET $USER_AGENT);

our $JWT_SECRET = 'test-jwt-secret-0123456789abcdef';
our $USER_AGENT = 'mod_jumio-test/1.0 (Example Corp)';

my $JSON = FakeJumio::State->json;
my $T_DIR = File::Spec->rel2abs(File::Spec->catdir(dirname(__FILE__), File::Spec->updir));

# ======================================================================
# JWTs
# ======================================================================

# HS256 JWT with the test server's secret; sub => 'user-1' and exp => time+300 unless given.
# A claim given as undef is left out (e.g. jwt(exp => undef) has no exp).
sub jwt {
    my (%claims) = @_;
    return jwt_alg('HS256', $JWT_SECRET, \%claims);
}

# jwt_alg($alg, $key, \%claims, \%header_extra): compact JWT signed with $alg
# (HS256/384/512, RS256/384/512, ES256/384/512, or none).  $key: the HMAC secret for HS*
# (undef = the test secret); for RS*/ES* a PEM file path, PEM text, or a key name of t/keys
# (undef = rsa_private / ec256_private / ec384_private / ec521_private).  Claims get the same
# defaults as jwt().  \%header_extra is merged into the header {alg, typ} and may override
# alg (signature still made with $alg) or add kid; an undef value removes a header field.
sub jwt_alg {
    my ($alg, $key, $claims, $header_extra) = @_;
    my %c = %{ $claims || {} };
    $c{sub} = 'user-1'   unless exists $c{sub};
    $c{exp} = time + 300 unless exists $c{exp};
    delete $c{$_} for grep { !defined $c{$_} } keys %c;
    my %h = (alg => $alg, typ => 'JWT', %{ $header_extra || {} });
    delete $h{$_} for grep { !defined $h{$_} } keys %h;
    my $input = b64url($JSON->encode(\%h)) . '.' . b64url($JSON->encode(\%c));
    return "$input." . b64url(_sign($alg, $key, $input));
}

my %EC_KEY  = (ES256 => 'ec256_private', ES384 => 'ec384_private', ES512 => 'ec521_private');
my %EC_SIZE = (ES256 => 32, ES384 => 48, ES512 => 66);

sub _sign {
    my ($alg, $key, $input) = @_;
    return '' if lc $alg eq 'none';
    my ($family, $bits) = $alg =~ /\A(HS|RS|ES)(256|384|512)\z/
        or croak "jwt_alg: unsupported algorithm $alg";
    if ($family eq 'HS') {
        my $mac = Digest::SHA->can("hmac_sha$bits");
        return $mac->($input, defined $key ? $key : $JWT_SECRET);
    }
    my $default = $family eq 'RS' ? 'rsa_private' : $EC_KEY{$alg};
    my ($keyfile, $tmpkey) = _key_path(defined $key ? $key : $default);
    my $sig = _openssl_sign($bits, $keyfile, $input);
    return $sig if $family eq 'RS';
    return _der_to_raw_ecdsa($sig, $EC_SIZE{$alg});
}

# A file holding the key: an existing path, PEM text (written to a temp file), or a key name.
sub _key_path {
    my ($key) = @_;
    if ($key =~ /-----BEGIN /) {
        my $tmp = File::Temp->new(SUFFIX => '.pem');
        print {$tmp} $key;
        close $tmp;
        return ($tmp->filename, $tmp);
    }
    return ($key) if -f $key;
    return (key_file($key));
}

sub _openssl_sign {
    my ($bits, $keyfile, $input) = @_;
    my $data = File::Temp->new;
    binmode $data;
    print {$data} $input;
    close $data;
    open(my $fh, '-|', 'openssl', 'dgst', "-sha$bits", '-binary', '-sign', $keyfile, $data->filename)
        or croak "jwt_alg: cannot run openssl: $!";
    binmode $fh;
    local $/;
    my $sig = <$fh>;
    close $fh or croak "jwt_alg: openssl dgst -sign $keyfile failed (status $?)";
    return $sig;
}

# DER ECDSA-Sig-Value SEQUENCE { INTEGER r, INTEGER s } -> r || s, each $n bytes (RFC 7518).
sub _der_to_raw_ecdsa {
    my ($der, $n) = @_;
    my @b = unpack 'C*', $der;
    my $i = 0;
    croak 'ECDSA signature: not a SEQUENCE' unless $b[$i++] == 0x30;
    my $len = $b[$i++];
    $i += $len & 0x7f if $len & 0x80;    # long form length: skip its bytes
    my @ints;
    for (1 .. 2) {
        croak 'ECDSA signature: not an INTEGER' unless $b[$i++] == 0x02;
        my $l = $b[$i++];
        my $v = pack 'C*', @b[$i .. $i + $l - 1];
        $i += $l;
        $v =~ s/\A\x00+//;
        croak 'ECDSA signature: integer too long' if length($v) > $n;
        push @ints, ("\x00" x ($n - length $v)) . $v;
    }
    return join '', @ints;
}

# ======================================================================
# test keys (t/keys/*.pem, generated when missing, never committed)
# ======================================================================

my @KEYS = (
    [rsa       => [qw(genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048)]],
    [rsa_other => [qw(genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048)]],
    [ec256     => [qw(genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256)]],
    [ec384     => [qw(genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-384)]],
    [ec521     => [qw(genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-521)]],
);

# Creates <dir>/<name>_private.pem and <name>_public.pem for every key above that is missing.
sub ensure_keys {
    my ($dir) = @_;
    $dir = File::Spec->catdir($T_DIR, 'keys') unless defined $dir;
    mkdir $dir unless -d $dir;
    for my $k (@KEYS) {
        my ($name, $gen) = @$k;
        my $priv = "$dir/${name}_private.pem";
        my $pub  = "$dir/${name}_public.pem";
        next if -s $priv && -s $pub;
        my $tmp = "$priv.tmp.$$";
        system('openssl', @$gen, '-out', $tmp) == 0 or croak "openssl genpkey for $name failed";
        system('openssl', 'pkey', '-in', $tmp, '-pubout', '-out', "$pub.tmp.$$") == 0
            or croak "openssl pkey -pubout for $name failed";
        chmod 0600, $tmp;
        rename $tmp, $priv or croak "rename $tmp: $!";
        rename "$pub.tmp.$$", $pub or croak "rename $pub: $!";
    }
    return $dir;
}

# Path of t/keys/<name>.pem (e.g. key_file('rsa_public')), generating the keys if needed.
sub key_file {
    my ($name) = @_;
    $name =~ s/\.pem\z//;
    my $dir = File::Spec->catdir($T_DIR, 'keys');
    my $file = "$dir/$name.pem";
    ensure_keys($dir) unless -f $file;
    croak "no test key $name in $dir" unless -f $file;
    return $file;
}

# JWK (hashref) of a public key of t/keys: jwk('rsa') / jwk('ec256_public') / jwk($pem_path)
# gives {kty RSA, n, e} or {kty EC, crv, x, y} (read with `openssl pkey -pubin -text`), plus
# %members (kid, use, alg, ...; an undef member is left out).
sub jwk {
    my ($name, %members) = @_;
    my $file = -f $name ? $name : key_file($name =~ /_public\z/ ? $name : "${name}_public");
    open(my $fh, '-|', 'openssl', 'pkey', '-pubin', '-in', $file, '-text', '-noout')
        or croak "jwk: cannot run openssl: $!";
    my $text = do { local $/; <$fh> };
    close $fh or croak "jwk: openssl pkey -text $file failed (status $?)";
    my %jwk;
    if ($text =~ /^Modulus:[ \t]*\n((?:[ \t]+[0-9a-f:]+\n)+)/m) {
        my $n = _hex_bytes($1);
        $n =~ s/\A\x00+//;
        my ($e) = $text =~ /^Exponent:\s*(\d+)/m or croak "jwk: no exponent in $file";
        %jwk = (kty => 'RSA', n => b64url($n), e => b64url(_int_bytes($e)));
    }
    elsif ($text =~ /^pub:[ \t]*\n((?:[ \t]+[0-9a-f:]+\n)+)/m) {
        my $point = _hex_bytes($1);
        my ($crv) = $text =~ /^NIST CURVE:\s*(P-\d+)/m or croak "jwk: no NIST curve in $file";
        croak "jwk: $file: not an uncompressed point" unless substr($point, 0, 1) eq "\x04";
        my $size = (length($point) - 1) / 2;
        %jwk = (kty => 'EC', crv => $crv, x => b64url(substr($point, 1, $size)),
                y => b64url(substr($point, 1 + $size, $size)));
    }
    else {
        croak "jwk: $file is neither an RSA nor an EC public key";
    }
    $jwk{$_} = $members{$_} for grep { defined $members{$_} } keys %members;
    return \%jwk;
}

sub _hex_bytes {
    my ($hex) = @_;
    $hex =~ s/[^0-9a-fA-F]//g;
    return pack 'H*', $hex;
}

sub _int_bytes {
    my ($v) = @_;
    my $b = '';
    while ($v > 0) {
        $b = chr($v & 0xff) . $b;
        $v >>= 8;
    }
    return $b;
}

# ======================================================================
# the fake Jumio's state
# ======================================================================

sub fake_dir {
    return FakeJumio::State::default_dir(Apache::Test::vars('serverroot'));
}

sub _fake { FakeJumio::State->new(fake_dir()) }

# Empties recorded requests, workflows and control rules (fake_reset(all => 1) also forgets
# accounts and revokes access tokens).
sub fake_reset {
    my (%opts) = @_;
    my $s = _fake();
    $s->locked(LOCK_EX, sub { $s->reset(%opts) });
    return 1;
}

# Revokes the given access tokens, or (no arguments) every token the fake issued: the next
# business call with a revoked token gets 401.
sub fake_revoke_tokens {
    my (@tokens) = @_;
    my $s = _fake();
    $s->locked(LOCK_EX, sub { $s->revoke_tokens(@tokens) });
    return 1;
}

# Recorded requests (hashes, oldest first), optionally only those of one endpoint.
# List context: the list; scalar context: how many.
sub fake_requests {
    my ($endpoint) = @_;
    my $s = _fake();
    my @r = $s->locked(LOCK_SH, sub { $s->requests });
    @r = grep { ($_->{endpoint} // '') eq $endpoint } @r if defined $endpoint;
    return @r;
}

# fake_control($endpoint, @rules): the rules for $endpoint (replacing earlier ones; none
# clears them).  Rule: {status, body (string or ref: JSON), content_type, delay, headers,
# times, expires_in (token endpoint)}.
sub fake_control {
    my ($endpoint, @rules) = @_;
    croak 'fake_control: endpoint name needed' unless defined $endpoint;
    my $s = _fake();
    $s->locked(LOCK_EX, sub {
        my $c = $s->control;
        if (@rules) { $c->{$endpoint} = [@rules] } else { delete $c->{$endpoint} }
        $s->set_control($c);
    });
    return 1;
}

# The workflow's state hash {account_id, status, definitionKey, details, ...} or undef.
sub fake_workflow {
    my ($wfid) = @_;
    my $s = _fake();
    return $s->locked(LOCK_SH, sub { $s->workflow($wfid) });
}

# Merges fields into the workflow's state (creating it when unknown) and returns the result.
sub fake_set_workflow {
    my ($wfid, %fields) = @_;
    croak 'fake_set_workflow: bad workflow id' unless FakeJumio::State::safe_id($wfid);
    my $s = _fake();
    return $s->locked(LOCK_EX, sub {
        my $wf = $s->workflow($wfid)
            || { id => $wfid, status => 'INITIATED', definitionKey => '3', details => undef,
                 credentials => [], created_at => time };
        @$wf{ keys %fields } = values %fields;
        $s->save_workflow($wfid, $wf);
        return $wf;
    });
}

# fake_set_jwks(@jwks): publishes {"keys": [@jwks]} (hashes, e.g. from jwk()) as the fake
# identity provider's JWKS document (GET /fake/idp/jwks, endpoint name jwks); a single string
# is published as it is (for malformed documents); no argument removes it (404).
sub fake_set_jwks {
    my (@jwks) = @_;
    my $s = _fake();
    my $file = $s->dir . '/jwks.json';
    $s->locked(LOCK_EX, sub {
        return unlink $file unless @jwks;
        my $text = (@jwks == 1 && !ref $jwks[0]) ? $jwks[0] : $JSON->encode({ keys => \@jwks });
        $s->write_file_atomic($file, $text);
    });
    return 1;
}

# ======================================================================
# the module's database
# ======================================================================

# The module's database as the test server uses it: MariaDB/MySQL when JUMIO_TEST_MYSQL holds
# the DBDParams of one (scripts/test's second pass), else SQLite t/logs/jumio.db.
sub db_is_mysql { return $ENV{JUMIO_TEST_MYSQL} ? 1 : 0 }

# A DBI handle on a database as mod_dbd names it: db_connect('sqlite3', $file) or
# db_connect('mysql', $dbd_params); without arguments the test server's database.  An SQLite
# file that does not exist (yet) is not created: "... does not exist (yet)".
sub db_connect {
    my ($driver, $params) = @_;
    ($driver, $params) = db_is_mysql() ? ('mysql', $ENV{JUMIO_TEST_MYSQL})
                                       : ('sqlite3', Apache::Test::vars('t_logs') . '/jumio.db')
        unless defined $driver;
    require DBI;
    if ($driver eq 'mysql') {
        my %p = map { split /=/, $_, 2 } split ' ', $params;
        return DBI->connect("dbi:MariaDB:database=$p{dbname};host=$p{host};port=$p{port}",
                            $p{user}, $p{pass}, { RaiseError => 1, PrintError => 0, AutoCommit => 1 });
    }
    require DBD::SQLite::Constants;
    croak "db_rows: $params does not exist (yet)" unless -e $params;
    my $dbh = DBI->connect("dbi:SQLite:dbname=$params", '', '', {
        RaiseError => 1, PrintError => 0, AutoCommit => 1,
        sqlite_open_flags => DBD::SQLite::Constants::SQLITE_OPEN_READWRITE(),
    });
    $dbh->sqlite_busy_timeout(10_000);
    return $dbh;
}

# Rows (hashrefs) of $sql on the module's database; a statement without result columns (UPDATE,
# DELETE) is executed and gives no rows.  Dies when the database does not exist yet.  List
# context: the rows; scalar context: an array reference.
sub db_rows {
    my @rows = select_rows({}, @_);
    return wantarray ? @rows : \@rows;
}

# select_rows(\%db, $sql, @bind): the rows of $sql on db_connect(@db{qw(driver params)}) (the
# test server's database without them); with absent_ok => 1 an absent database or table
# gives no rows instead of dying (the module makes them on its first request).
sub select_rows {
    my ($db, $sql, @bind) = @_;
    my @rows = eval {
        my $dbh = db_connect(@$db{qw(driver params)});
        my $sth = $dbh->prepare($sql);
        $sth->execute(@bind);
        my @r;
        if ($sth->{NUM_OF_FIELDS}) {
            while (my $row = $sth->fetchrow_hashref) {
                push @r, {%$row};
            }
        }
        $sth->finish;
        $dbh->disconnect;
        @r;
    };
    if ($@) {
        return () if $db->{absent_ok} && $@ =~ /no such table|doesn't exist|does not exist \(yet\)/i;
        die $@;
    }
    return @rows;
}

# ======================================================================
# extra httpd instances (t/lib/JumioTest/Httpd.pm)
# ======================================================================

# extra_httpd(name => 'bg', background => 1, schedule => [1, 2, 3], conf => "...", ...):
# another httpd with mod_jumio on a free port, its Jumio endpoints at this suite's fake
# (/fake of the test server), its own SQLite database in t/logs/<name>/jumio.db unless
# db => <file>, dbd_driver/dbd_params => ..., or db => 'main' (the test server's database:
# SQLite t/logs/jumio.db, or the MariaDB of JUMIO_TEST_MYSQL).  Returns a started
# JumioTest::Httpd (port, url, graceful, stop, error_log, db_rows ...), stopped when it goes.
sub extra_httpd {
    my (%o) = @_;
    require JumioTest::Httpd;
    if (($o{db} // '') eq 'main') {
        delete $o{db};
        if (db_is_mysql()) { @o{qw(dbd_driver dbd_params)} = ('mysql', $ENV{JUMIO_TEST_MYSQL}) }
        else               { $o{db} = Apache::Test::vars('t_logs') . '/jumio.db' }
    }
    return JumioTest::Httpd->new(
        fake  => 'http://127.0.0.1:' . Apache::Test::vars('port') . '/fake',
        t_dir => Apache::Test::vars('serverroot'),
        logs  => Apache::Test::vars('t_logs'),
        %o);
}

# ======================================================================
# requests
# ======================================================================

# request($method, $path, %opts) -> HTTP::Response: one request to the test server (the
# virtual host of Apache::TestRequest::module), to base => another server's URL, or to $path
# when it is a URL.  Options:
#   user => $id     Authorization: Bearer <a valid HS256 JWT for $id> (jwt(), 10 minutes)
#   token => $jwt   Authorization: Bearer $jwt (undef: no header)
#   auth => $value  Authorization as it is (e.g. "Basic ..."; before user and token)
#   headers         [name => value, ...] or {name => value}
#   body            a string, sent as it is (no Content-Type unless given); or a hashref:
#                   JSON (form => 1: dotted-key urlencoded) with its Content-Type
#   content_type    the Content-Type (undef: none), unless headers has one
#   chunked         [pieces]: the body sent with chunked transfer encoding
#   query           'a=b', appended to the path
#   ua              an LWP::UserAgent of your own (keep_alive_ua(): to stay on one httpd
#                   child); else a new one per request (no keep-alive, no redirects)
sub request {
    my ($method, $path, %o) = @_;
    my @h = ref $o{headers} eq 'HASH' ? %{ $o{headers} } : @{ $o{headers} || [] };
    my $auth = $o{auth} // (defined $o{user}  ? 'Bearer ' . jwt(sub => $o{user}, exp => time + 600)
                          : defined $o{token} ? "Bearer $o{token}" : undef);
    unshift @h, Authorization => $auth if defined $auth;
    my $body = $o{body};
    my $ct;
    if (ref $body) {
        $ct = $o{form} ? 'application/x-www-form-urlencoded' : 'application/json';
        $body = $o{form} ? form_encode($body) : $JSON->encode($body);
    }
    elsif (defined $body) {
        utf8::encode($body) if utf8::is_utf8($body);
    }
    $ct = $o{content_type} if exists $o{content_type};
    push @h, 'Content-Type' => $ct
        if defined $ct && !grep { lc $h[$_] eq 'content-type' } grep { $_ % 2 == 0 } 0 .. $#h;
    $path .= ($path =~ /\?/ ? '&' : '?') . $o{query} if defined $o{query} && length $o{query};
    my $url = $path =~ m{\A\w+://} ? $path
            : defined $o{base}      ? "$o{base}$path" : Apache::TestRequest::resolve_url($path);
    my $req;
    if ($o{chunked}) {
        my @pieces = @{ $o{chunked} };
        $req = HTTP::Request->new($method => $url, \@h, sub { shift @pieces });
    }
    else {
        $req = HTTP::Request->new($method => $url, \@h, $body);
        $req->header('Content-Length' => length($body // ''))
            if defined $body || $method =~ /\A(?:POST|PUT)\z/;
    }
    my $ua = $o{ua} || LWP::UserAgent->new(timeout => 60, max_redirect => 0, keep_alive => 0);
    return $ua->request($req);
}

# A client that keeps its connection: the requests sent with it stay on one httpd child.
sub keep_alive_ua { LWP::UserAgent->new(timeout => 60, max_redirect => 0, keep_alive => 1) }

# intake(%opts): POST /jumio/intake with a default jwt() unless token, user or auth is given.
sub intake {
    my (%o) = @_;
    $o{token} = jwt() unless exists $o{token} || defined $o{user} || defined $o{auth};
    my $method = delete $o{method} || 'POST';
    my $path   = delete $o{path}   || '/jumio/intake';
    return request($method, $path, %o);
}

# poll($ref, %opts): GET /jumio/poll with X-Transaction-Reference: $ref (none when undef).
sub poll {
    my ($ref, %o) = @_;
    $o{token} = jwt() unless exists $o{token} || defined $o{user} || defined $o{auth};
    my $method = delete $o{method} || 'GET';
    my $path   = delete $o{path}   || '/jumio/poll';
    $o{headers} = [ ref $o{headers} eq 'HASH' ? %{ $o{headers} } : @{ $o{headers} || [] },
                    (defined $ref ? ('X-Transaction-Reference' => $ref) : ()) ];
    return request($method, $path, %o);
}

# callback($body, %opts): POST /jumio/callback as Jumio would (no Authorization).
sub callback {
    my ($body, %o) = @_;
    my $method = delete $o{method} || 'POST';
    my $path   = delete $o{path}   || '/jumio/callback';
    return request($method, $path, %o, body => $body);
}

# Decoded JSON of a response's body, undef when it is not JSON.
sub json_of {
    my ($res) = @_;
    return undef unless $res;
    my $content = $res->content;
    return undef unless defined $content && length $content;
    my $data = eval { $JSON->decode($content) };
    return $data;
}

# {a => {b => 1}, c => 2} -> "a.b=1&c=2" (keys sorted, values percent-encoded).
sub form_encode {
    my ($data) = @_;
    my @pairs;
    my $walk;
    $walk = sub {
        my ($prefix, $v) = @_;
        if (ref $v eq 'HASH') {
            $walk->(length $prefix ? "$prefix.$_" : $_, $v->{$_}) for sort keys %$v;
        }
        elsif (ref $v eq 'ARRAY') {
            $walk->("$prefix.$_", $v->[$_]) for 0 .. $#$v;
        }
        else {
            push @pairs, _pct($prefix) . '=' . _pct(defined $v ? $v : '');
        }
    };
    $walk->('', $data);
    undef $walk;
    return join '&', @pairs;
}

sub _pct {
    my ($s) = @_;
    utf8::encode($s) if utf8::is_utf8($s);
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

# ======================================================================
# waiting
# ======================================================================

# Calls $cond every $step seconds (default 0.1) until it is true or $secs pass; its last value.
sub wait_until {
    my ($secs, $cond, $step) = @_;
    my $until = Time::HiRes::time() + $secs;
    while (Time::HiRes::time() < $until) {
        my $v = $cond->();
        return $v if $v;
        Time::HiRes::sleep($step // 0.1);
    }
    return $cond->();
}

1;
