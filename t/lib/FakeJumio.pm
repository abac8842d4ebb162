package FakeJumio;

# A fake Jumio KYX platform for the Apache::Test suite: a mod_perl 2 response handler
# served under /fake/ by the test server itself (see t/README.md for the contract).
#
#   POST   /fake/auth/oauth2/token                                            token
#   POST   /fake/account/api/v1/accounts                                      account_create
#   PUT    /fake/account/api/v1/accounts/<a>                                  account_update
#   GET    /fake/retrieval/api/v1/accounts/<a>/workflow-executions/<w>/status status
#   GET    /fake/retrieval/api/v1/accounts/<a>/workflow-executions/<w>        details
#   DELETE /fake/retrieval/api/v1/accounts/<a>/workflow-executions/<w>        delete_workflow
#   DELETE /fake/retrieval/api/v1/accounts/<a>                                delete_account
#   GET    /fake/status[/]                                                    health
#   GET    /fake/idp/jwks                 (an identity provider's JWKS)       jwks
#
# Every request is checked the way Jumio's KYX guide describes; what is wrong is recorded in
# the request's `violations` and answered 400 (401 for a bad or absent credential, 403 for a
# missing header).  Several prefork children serve the fake: all state lives in files
# (FakeJumio::State) changed under one flock.

use strict;
use warnings;

use Apache2::RequestRec ();
use Apache2::RequestIO ();
use Apache2::ServerUtil ();
use Apache2::Connection ();
use APR::SockAddr ();
use APR::Table ();
use Apache2::Const -compile => qw(OK);

use B ();
use Digest::SHA ();
use Encode ();
use Fcntl qw(:flock);
use JSON::PP ();
use MIME::Base64 qw(decode_base64);
use POSIX ();
use Time::HiRes ();

use FakeJumio::State qw(random_bytes b64url uuid_v4);

our $CLIENT_ID      = 'test-client';
our $CLIENT_SECRET  = 'test-secret-value';
our $USER_AGENT     = 'mod_jumio-test/1.0 (Example Corp)';
our $TOKEN_LIFETIME = 3600;

my $UUID_RE = qr/\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\z/;
my %REASON = (200 => 'OK', 400 => 'Bad Request', 401 => 'Unauthorized', 403 => 'Forbidden',
              404 => 'Not Found', 405 => 'Method Not Allowed', 409 => 'Conflict',
              429 => 'Too Many Requests', 500 => 'Internal Server Error', 502 => 'Bad Gateway',
              503 => 'Service Unavailable', 504 => 'Gateway Timeout');

# Credentials a new workflow gets, by definition key (anything else: ID).
my %WORKFLOW_CREDENTIALS = (3 => [qw(ID FACEMAP SELFIE)], 6 => [qw(FACEMAP SELFIE)],
                            9 => [qw(FACEMAP SELFIE)]);
my %CREDENTIAL_TYPES = (ID      => { map { $_ => 1 } qw(ID_CARD DRIVING_LICENSE PASSPORT VISA) },
                        FACEMAP => { map { $_ => 1 } qw(IPROOV_STANDARD IPROOV_PREMIUM JUMIO_STANDARD) });
my %ACCOUNT_KEYS = map { $_ => 1 }
    qw(customerInternalReference workflowDefinition userReference reportingCriteria callbackUrl
       tokenLifetime web);

my $JSON = FakeJumio::State->json;

# ======================================================================
# handler
# ======================================================================

sub handler {
    my ($r) = @_;
    my $state = FakeJumio::State->new(FakeJumio::State::default_dir(Apache2::ServerUtil::server_root()));
    my $req = read_request($r);
    my ($endpoint, $params, $allowed) = route($req->{method}, $req->{path});

    my ($answer, $rule);
    $state->locked(LOCK_EX, sub {
        $rule = $state->take_rule($endpoint);
        my @v = validate($state, $endpoint, $req, $params);
        if ($endpoint eq 'unknown') {
            $answer = $allowed
                ? problem(405, "method $req->{method} not allowed here", Allow => $allowed)
                : problem(404, "no such endpoint $req->{path}");
        }
        elsif ($rule && defined $rule->{status}) {
            $answer = rule_answer($rule);
        }
        elsif (@v) {
            $answer = violation_answer(@v);
        }
        else {
            $answer = process($state, $endpoint, $req, $params, $rule || {});
        }
        if ($rule && ref $rule->{headers} eq 'HASH') {
            push @{ $answer->{headers} }, %{ $rule->{headers} };
        }
        $state->append_request({
            time => Time::HiRes::time(), endpoint => $endpoint, method => $req->{method},
            path => $req->{path}, query => $req->{query}, headers => $req->{headers},
            body => $req->{body_text},
            # decoded afresh: validation may have stringified numbers in $req->{json}
            json => (length $req->{body} ? scalar(eval { $JSON->decode($req->{body}) }) : undef),
            violations => [map { $_->[1] } @v], answer_status => $answer->{status},
            # which TCP connection carried it ("<child pid>:<client port>") and how many
            # requests that connection carried before (0: a new connection)
            conn => connection_id($r), keepalives => $r->connection->keepalives,
        });
    });

    Time::HiRes::sleep($rule->{delay}) if $rule && $rule->{delay};
    send_answer($r, $answer);
    return Apache2::Const::OK;
}

# "<child pid>:<client port>": the same on every request of one TCP connection.
sub connection_id {
    my ($r) = @_;
    my $addr = eval { $r->connection->client_addr };
    return "$$:" . ($addr ? $addr->port : '?');
}

sub read_request {
    my ($r) = @_;
    my %headers;
    $r->headers_in->do(sub {
        my ($k, $v) = @_;
        my $lk = lc $k;
        $headers{$lk} = exists $headers{$lk} ? "$headers{$lk}, $v" : $v;
        1;
    });
    my $body = '';
    while (1) {
        my $n = $r->read(my $buf, 65536);
        last unless $n;
        $body .= $buf;
    }
    my $json;
    if (length $body) {
        $json = eval { $JSON->decode($body) };
    }
    return {
        method    => $r->method,
        path      => $r->uri,
        query     => (defined $r->args ? $r->args : ''),
        host      => ($headers{host} || '127.0.0.1'),
        headers   => \%headers,
        body      => $body,
        body_text => Encode::decode('UTF-8', $body, Encode::FB_DEFAULT),
        json      => $json,
    };
}

# Endpoint name and path parameters; 'unknown' (with the allowed methods when the path is
# known but the method is not) otherwise.
sub route {
    my ($m, $path) = @_;
    my @routes = (
        [qr{\A/fake/auth/oauth2/token\z}, { POST => 'token' }],
        [qr{\A/fake/account/api/v1/accounts\z}, { POST => 'account_create' }],
        [qr{\A/fake/account/api/v1/accounts/([^/]+)\z}, { PUT => 'account_update' }, 'account_id'],
        [qr{\A/fake/retrieval/api/v1/accounts/([^/]+)/workflow-executions/([^/]+)/status\z},
         { GET => 'status' }, 'account_id', 'workflow_id'],
        [qr{\A/fake/retrieval/api/v1/accounts/([^/]+)/workflow-executions/([^/]+)\z},
         { GET => 'details', DELETE => 'delete_workflow' }, 'account_id', 'workflow_id'],
        [qr{\A/fake/retrieval/api/v1/accounts/([^/]+)\z}, { DELETE => 'delete_account' }, 'account_id'],
        [qr{\A/fake/status/?\z}, { GET => 'health' }],
        [qr{\A/fake/idp/jwks\z}, { GET => 'jwks' }],
    );
    for my $route (@routes) {
        my ($re, $methods, @names) = @$route;
        my @vals = $path =~ $re or next;
        @vals = () unless @names;
        my %params;
        @params{@names} = @vals;
        return ($methods->{$m}, \%params) if $methods->{$m};
        return ('unknown', {}, join(', ', sort keys %$methods));
    }
    return ('unknown', {}, undef);
}

# ======================================================================
# validation: a list of [class, message]; class auth (401), missing (403), bad (400)
# ======================================================================

sub validate {
    my ($state, $endpoint, $req, $params) = @_;
    return () if $endpoint eq 'unknown';
    return check_jwks_request($req) if $endpoint eq 'jwks';
    my @v;
    if ($endpoint eq 'token') {
        push @v, check_accept($req);
        push @v, check_content_type($req, 'application/x-www-form-urlencoded');
        push @v, check_basic($req->{headers}{authorization}, 'token request');
        my %form = parse_form($req->{body});
        push @v, ['bad', 'grant_type must be client_credentials']
            unless defined $form{grant_type} && $form{grant_type} eq 'client_credentials';
        return @v;
    }
    push @v, check_accept($req);
    push @v, check_user_agent($req);
    return @v if $endpoint eq 'health';

    push @v, check_business_auth($state, $req->{headers}{authorization});
    for my $name (qw(account_id workflow_id)) {
        next unless defined $params->{$name};
        push @v, ['bad', "$name in the path is not a UUID: $params->{$name}"]
            unless $params->{$name} =~ $UUID_RE;
    }
    if ($req->{method} eq 'POST' || $req->{method} eq 'PUT') {
        push @v, check_content_type($req, 'application/json');
        push @v, ['missing', 'missing header Content-Length']
            unless defined $req->{headers}{'content-length'};
        push @v, check_account_body($state, $endpoint, $req, $params);
    }
    elsif (length $req->{body}) {
        push @v, ['bad', "unexpected body on $req->{method}"];
    }
    return @v;
}

sub check_accept {
    my ($req) = @_;
    my $accept = $req->{headers}{accept};
    return ['missing', 'missing header Accept'] unless defined $accept;
    return () if $accept =~ m{(?:\A|[\s,])application/json(?:\s*(?:[;,]|\z))};
    return ['bad', "Accept must be application/json, got: $accept"];
}

# A JWKS fetch is a plain GET: Jumio's credentials must never reach the identity provider.
sub check_jwks_request {
    my ($req) = @_;
    my @v;
    push @v, ['bad', 'JWKS request carries an Authorization header']
        if defined $req->{headers}{authorization};
    push @v, ['bad', 'unexpected body on a JWKS request'] if length $req->{body};
    return @v;
}

sub check_user_agent {
    my ($req) = @_;
    my $ua = $req->{headers}{'user-agent'};
    return ['missing', 'missing header User-Agent'] unless defined $ua;
    return () if $ua eq $USER_AGENT;
    return ['bad', "User-Agent must be '$USER_AGENT', got: '$ua'"];
}

sub check_content_type {
    my ($req, $want) = @_;
    my $ct = $req->{headers}{'content-type'};
    return ['missing', 'missing header Content-Type'] unless defined $ct;
    my ($type) = split /;/, $ct, 2;
    $type =~ s/\s+//g;
    return () if lc $type eq $want;
    return ['bad', "Content-Type must be $want, got: $ct"];
}

# Basic credentials of the test client.
sub check_basic {
    my ($auth, $what) = @_;
    return ['auth', "missing header Authorization on $what"] unless defined $auth;
    my ($scheme, $cred) = $auth =~ /\A\s*(\S+)\s+(\S+)\s*\z/;
    return ['auth', "$what needs Basic authorization"] unless $scheme && lc $scheme eq 'basic';
    my $plain = decode_base64($cred);
    return () if $plain eq "$CLIENT_ID:$CLIENT_SECRET";
    return ['auth', "wrong client credentials on $what"];
}

# Business calls: a Bearer token issued by the fake (still valid), or Basic credentials of
# the test client (Jumio's API users may use Basic authentication).
sub check_business_auth {
    my ($state, $auth) = @_;
    return ['auth', 'missing header Authorization'] unless defined $auth;
    my ($scheme, $cred) = $auth =~ /\A\s*(\S+)\s+(\S+)\s*\z/;
    return ['auth', "malformed Authorization header"] unless $scheme;
    if (lc $scheme eq 'bearer') {
        return () if $state->token_valid($cred);
        return ['auth', 'Bearer token unknown, expired or revoked'];
    }
    return check_basic($auth, 'business call') if lc $scheme eq 'basic';
    return ['auth', "unsupported authorization scheme $scheme"];
}

sub is_number {
    my ($v) = @_;
    return 0 if !defined $v || ref $v;
    my $flags = B::svref_2object(\$v)->FLAGS;
    return ($flags & (B::SVp_IOK() | B::SVp_NOK())) && !($flags & B::SVp_POK()) ? 1 : 0;
}

sub is_string {
    my ($v) = @_;
    return defined $v && !ref $v && !is_number($v);
}

sub check_string {
    my ($name, $v, $max, $min) = @_;
    $min //= 0;
    return ['bad', "$name must be a string"] unless is_string($v);
    return ['bad', "$name longer than $max characters"] if length($v) > $max;
    return ['bad', "$name shorter than $min characters"] if length($v) < $min;
    return ();
}

sub check_url {
    my ($name, $v) = @_;
    my @v = check_string($name, $v, 255, 1);
    return @v if @v;
    return ['bad', "$name is not an http(s) URL: $v"] unless $v =~ m{\Ahttps?://[^\s/?#]+[^\s]*\z};
    return ();
}

sub lifetime_seconds {
    my ($v) = @_;
    my ($n, $unit) = $v =~ /\A(\d+)([smhd])\z/ or return undef;
    return $n * { s => 1, m => 60, h => 3600, d => 86400 }->{$unit};
}

sub check_account_body {
    my ($state, $endpoint, $req, $params) = @_;
    my $j = $req->{json};
    return ['bad', 'body is not JSON'] unless defined $j || !length $req->{body};
    return ['bad', 'body must be a JSON object'] unless ref $j eq 'HASH';
    my @v;
    for my $k (sort keys %$j) {
        push @v, ['bad', "unknown top-level key $k"] unless $ACCOUNT_KEYS{$k};
    }
    if (!exists $j->{customerInternalReference}) {
        push @v, ['bad', 'customerInternalReference is required'];
    }
    else {
        push @v, check_string('customerInternalReference', $j->{customerInternalReference}, 100, 1);
    }
    push @v, check_workflow_definition($state, $endpoint, $j->{workflowDefinition}, $params);
    push @v, check_string('userReference', $j->{userReference}, 100, 1) if exists $j->{userReference};
    push @v, check_string('reportingCriteria', $j->{reportingCriteria}, 255)
        if exists $j->{reportingCriteria};
    push @v, check_url('callbackUrl', $j->{callbackUrl}) if exists $j->{callbackUrl};
    if (exists $j->{tokenLifetime}) {
        my $tl = $j->{tokenLifetime};
        my $secs = is_string($tl) ? lifetime_seconds($tl) : undef;
        if (!defined $secs) {
            push @v, ['bad', 'tokenLifetime must match ^\d+[smhd]$'];
        }
        elsif ($secs < 300 || $secs > 60 * 86400) {
            push @v, ['bad', "tokenLifetime $tl outside 5m..60d"];
        }
    }
    push @v, check_web($j->{web}) if exists $j->{web};
    return @v;
}

sub check_web {
    my ($web) = @_;
    return ['bad', 'web must be an object'] unless ref $web eq 'HASH';
    my @v;
    for my $k (sort keys %$web) {
        push @v, ['bad', "unknown key web.$k"] unless $k =~ /\A(?:successUrl|errorUrl|locale)\z/;
    }
    push @v, check_url('web.successUrl', $web->{successUrl}) if exists $web->{successUrl};
    push @v, check_url('web.errorUrl', $web->{errorUrl}) if exists $web->{errorUrl};
    if (exists $web->{locale}) {
        my @l = check_string('web.locale', $web->{locale}, 5, 2);
        push @v, @l ? @l
            : $web->{locale} =~ /\A[a-z]{2}(?:-[A-Z]{2})?\z/ ? ()
            : (['bad', "web.locale is not a locale: $web->{locale}"]);
    }
    return @v;
}

sub check_workflow_definition {
    my ($state, $endpoint, $wd, $params) = @_;
    return ['bad', 'workflowDefinition is required'] unless defined $wd;
    return ['bad', 'workflowDefinition must be an object'] unless ref $wd eq 'HASH';
    my @v;
    for my $k (sort keys %$wd) {
        push @v, ['bad', "unknown key workflowDefinition.$k"] unless $k =~ /\A(?:key|credentials)\z/;
    }
    my $key = $wd->{key};
    if (!defined $key) {
        push @v, ['bad', 'workflowDefinition.key is required'];
    }
    elsif (!is_number($key) || $key != int($key) || $key < 1) {
        push @v, ['bad', 'workflowDefinition.key must be a positive integer'];
        undef $key;
    }
    if (exists $wd->{credentials}) {
        push @v, check_credentials($wd->{credentials});
    }
    if (defined $key && $key == 9) {
        push @v, check_authentication($state, $endpoint, $wd->{credentials}, $params);
    }
    return @v;
}

sub check_credentials {
    my ($creds) = @_;
    return ['bad', 'workflowDefinition.credentials must be an array'] unless ref $creds eq 'ARRAY';
    my @v;
    for my $i (0 .. $#$creds) {
        my $c = $creds->[$i];
        my $n = "workflowDefinition.credentials[$i]";
        if (ref $c ne 'HASH') {
            push @v, ['bad', "$n must be an object"];
            next;
        }
        for my $k (sort keys %$c) {
            push @v, ['bad', "unknown key $n.$k"] unless $k =~ /\A(?:id|category|type|country)\z/;
        }
        my $cat = $c->{category};
        if (!is_string($cat) || $cat !~ /\A(?:ID|FACEMAP|DOCUMENT|SELFIE)\z/) {
            push @v, ['bad', "$n.category must be ID, FACEMAP, DOCUMENT or SELFIE"];
            $cat = '';
        }
        push @v, ['bad', "$n.id must be a UUID"] if exists $c->{id} && !(is_string($c->{id}) && $c->{id} =~ $UUID_RE);
        push @v, check_values("$n.type", $c->{type}, sub {
            my $t = shift;
            return !$CREDENTIAL_TYPES{$cat} || $CREDENTIAL_TYPES{$cat}{$t};
        }) if exists $c->{type};
        push @v, check_values("$n.country", $c->{country}, sub { $_[0] =~ /\A[A-Z]{3}\z/ })
            if exists $c->{country};
    }
    return @v;
}

sub check_values {
    my ($n, $obj, $ok) = @_;
    return ['bad', "$n must be an object"] unless ref $obj eq 'HASH';
    my @v;
    for my $k (sort keys %$obj) {
        push @v, ['bad', "unknown key $n.$k"] unless $k =~ /\A(?:values|predefinedType)\z/;
    }
    if (exists $obj->{predefinedType}) {
        push @v, ['bad', "$n.predefinedType must be DEFINED or RECOMMENDED"]
            unless is_string($obj->{predefinedType}) && $obj->{predefinedType} =~ /\A(?:DEFINED|RECOMMENDED)\z/;
    }
    my $vals = $obj->{values};
    if (ref $vals ne 'ARRAY' || !@$vals) {
        push @v, ['bad', "$n.values must be a non-empty array"];
        return @v;
    }
    for my $val (@$vals) {
        push @v, ['bad', "$n.values has an invalid entry: " . (defined $val && !ref $val ? $val : 'non-string')]
            unless is_string($val) && $ok->($val);
    }
    return @v;
}

# Workflow 9 (authentication) needs an existing account with a facemap on file; credential
# ids it names must be credentials of that account, with the same category.
sub check_authentication {
    my ($state, $endpoint, $creds, $params) = @_;
    return ['bad', 'workflow 9 needs an existing account (PUT), not a new one']
        if $endpoint eq 'account_create';
    my $acc = defined $params->{account_id} ? $state->account($params->{account_id}) : undef;
    return () unless $acc;    # unknown account: answered 404 later
    my %issued = map { $_->{id} => $_->{category} } @{ $acc->{credentials} || [] };
    my @v;
    push @v, ['bad', 'workflow 9 needs a FACEMAP credential on file for the account']
        unless grep { $_ eq 'FACEMAP' } values %issued;
    for my $c (ref $creds eq 'ARRAY' ? @$creds : ()) {
        next unless ref $c eq 'HASH' && defined $c->{id} && !ref $c->{id};
        if (!exists $issued{ $c->{id} }) {
            push @v, ['bad', "credential $c->{id} is not a credential of account $params->{account_id}"];
        }
        elsif (defined $c->{category} && !ref $c->{category} && $c->{category} ne $issued{ $c->{id} }) {
            push @v, ['bad', "credential $c->{id} is a $issued{$c->{id}} credential, not $c->{category}"];
        }
    }
    return @v;
}

sub parse_form {
    my ($body) = @_;
    my %form;
    for my $pair (split /&/, $body // '') {
        my ($k, $v) = split /=/, $pair, 2;
        for ($k, $v) {
            next unless defined;
            tr/+/ /;
            s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
        }
        $form{$k} = $v if defined $k;
    }
    return %form;
}

# ======================================================================
# answers
# ======================================================================

sub json_answer {
    my ($status, $data, @headers) = @_;
    return { status => $status, content_type => 'application/json',
             body => $JSON->encode($data), headers => [@headers] };
}

# RFC 7807 problem document, as Jumio's newer APIs answer errors.
sub problem {
    my ($status, $detail, @headers) = @_;
    return json_answer($status, { title => $REASON{$status} || 'Error', status => $status + 0,
                                  detail => $detail }, @headers);
}

sub violation_answer {
    my (@v) = @_;
    my %classes = map { $_->[0] => 1 } @v;
    my $status = $classes{auth} ? 401 : $classes{missing} ? 403 : 400;
    my @h = $status == 401 ? ('WWW-Authenticate' => 'Bearer realm="jumio"') : ();
    return problem($status, join('; ', map { $_->[1] } @v), @h);
}

sub rule_answer {
    my ($rule) = @_;
    my $status = $rule->{status} + 0;
    my $body = $rule->{body};
    if (!defined $body) {
        $body = $status >= 400
            ? $JSON->encode({ title => $REASON{$status} || 'Error', status => $status,
                              detail => 'injected by the fake' })
            : '';
    }
    elsif (ref $body) {
        $body = $JSON->encode($body);
    }
    my $ct = exists $rule->{content_type} ? $rule->{content_type} : 'application/json';
    return { status => $status, content_type => $ct, body => $body, headers => [] };
}

sub send_answer {
    my ($r, $answer) = @_;
    $r->status($answer->{status});
    $r->content_type($answer->{content_type})
        if defined $answer->{content_type} && length $answer->{content_type};
    my @h = @{ $answer->{headers} || [] };
    while (my ($k, $v) = splice @h, 0, 2) {
        $r->err_headers_out->add($k => $v);
    }
    $r->print($answer->{body}) if defined $answer->{body} && length $answer->{body};
}

# ======================================================================
# processing of valid requests
# ======================================================================

sub process {
    my ($state, $endpoint, $req, $params, $rule) = @_;
    my $code = __PACKAGE__->can("do_$endpoint") or return problem(500, "no handler for $endpoint");
    return $code->($state, $req, $params, $rule);
}

sub do_token {
    my ($state, $req, $params, $rule) = @_;
    my $lifetime = defined $rule->{expires_in} ? $rule->{expires_in} + 0 : $TOKEN_LIFETIME;
    my $token = random_token(32);
    $state->issue_token($token, time + $lifetime);
    return json_answer(200, { access_token => $token, expires_in => $lifetime, token_type => 'Bearer' });
}

sub do_account_create {
    my ($state, $req, $params, $rule) = @_;
    my $aid = uuid_v4();
    my $acc = { id => $aid, created_at => time, workflows => [], credentials => [] };
    return new_workflow($state, $req, $acc, $rule);
}

sub do_account_update {
    my ($state, $req, $params, $rule) = @_;
    my $acc = $state->account($params->{account_id})
        or return problem(404, "account $params->{account_id} not found");
    return new_workflow($state, $req, $acc, $rule);
}

sub new_workflow {
    my ($state, $req, $acc, $rule) = @_;
    my $j = $req->{json};
    my $key = $j->{workflowDefinition}{key} + 0;
    my $wid = uuid_v4();
    my @creds = map { { id => uuid_v4(), category => $_, allowedChannels => [qw(WEB API SDK)] } }
        @{ $WORKFLOW_CREDENTIALS{$key} || ['ID'] };
    my $locale = ref $j->{web} eq 'HASH' && $j->{web}{locale} ? $j->{web}{locale} : 'en';
    # scripts/demo sets JUMIO_FAKE_WEB_BASE, t/browser.t a rule {web_base => ...}: the link
    # then opens FakeJumioWeb's journey page
    my $base = ($rule && $rule->{web_base}) || $ENV{JUMIO_FAKE_WEB_BASE};
    my $web = $base ? "$base/$wid" : 'https://fake.web.amer-1.jumio.ai/web/v4/app';
    my $href = "$web?authorizationToken=" . random_token(24) . "&locale=$locale";

    $state->save_workflow($wid, {
        id => $wid, account_id => $acc->{id}, status => 'INITIATED', definitionKey => "$key",
        details => undef, credentials => [map { { id => $_->{id}, category => $_->{category} } } @creds],
        customerInternalReference => $j->{customerInternalReference},
        userReference => $j->{userReference}, callbackUrl => $j->{callbackUrl},
        web_href => $href, created_at => time,
        (ref $j->{web} eq 'HASH' ? (web => $j->{web}) : ()),
    });
    push @{ $acc->{workflows} }, $wid;
    push @{ $acc->{credentials} }, map { { id => $_->{id}, category => $_->{category} } } @creds;
    $state->save_account($acc->{id}, $acc);

    return json_answer(200, {
        timestamp => timestamp(),
        account => { id => $acc->{id} },
        web => { href => $href },
        sdk => { token => fake_jwt({ sub => $wid, acc => $acc->{id} }) },
        workflowExecution => { id => $wid, credentials => \@creds },
    });
}

sub workflow_of {
    my ($state, $params) = @_;
    my $wf = $state->workflow($params->{workflow_id});
    return undef unless $wf && ($wf->{account_id} // '') eq $params->{account_id};
    return $wf;
}

sub retrieval_base {
    my ($req) = @_;
    return "http://$req->{host}/fake/retrieval/api/v1";
}

sub do_status {
    my ($state, $req, $params) = @_;
    my $wf = workflow_of($state, $params)
        or return problem(404, "workflow $params->{workflow_id} not found");
    my $base = retrieval_base($req);
    return json_answer(200, {
        account => { id => $params->{account_id}, href => "$base/accounts/$params->{account_id}" },
        workflowExecution => {
            id => $params->{workflow_id},
            href => "$base/accounts/$params->{account_id}/workflow-executions/$params->{workflow_id}",
            definitionKey => "$wf->{definitionKey}",
            status => $wf->{status},
        },
    });
}

sub do_details {
    my ($state, $req, $params) = @_;
    my $wf = workflow_of($state, $params)
        or return problem(404, "workflow $params->{workflow_id} not found");
    return json_answer(200, $wf->{details}) if defined $wf->{details};
    return json_answer(200, default_details($wf, $params, retrieval_base($req)));
}

sub do_delete_workflow {
    my ($state, $req, $params) = @_;
    workflow_of($state, $params) or return problem(404, "workflow $params->{workflow_id} not found");
    $state->delete_workflow($params->{workflow_id});
    if (my $acc = $state->account($params->{account_id})) {
        $acc->{workflows} = [grep { $_ ne $params->{workflow_id} } @{ $acc->{workflows} || [] }];
        $state->save_account($acc->{id}, $acc);
    }
    return { status => 200, body => '', headers => [] };
}

sub do_delete_account {
    my ($state, $req, $params) = @_;
    my $acc = $state->account($params->{account_id})
        or return problem(404, "account $params->{account_id} not found");
    $state->delete_workflow($_) for @{ $acc->{workflows} || [] };
    $state->delete_account($acc->{id});
    return { status => 200, body => '', headers => [] };
}

sub do_health {
    return json_answer(200, { status => 'UP' });
}

# The identity provider's JWKS document: jwks.json of the state directory, served as it is
# (JumioTest::fake_set_jwks writes it); 404 when there is none.
sub do_jwks {
    my ($state) = @_;
    my $text = $state->read_file($state->dir . '/jwks.json');
    return problem(404, 'no JWKS document published') unless defined $text;
    return { status => 200, content_type => 'application/json', body => $text, headers => [] };
}

# A PASSED details document shaped like the guide's Get Workflow Details example.
sub default_details {
    my ($wf, $params, $base) = @_;
    my ($aid, $wid) = @$params{qw(account_id workflow_id)};
    my @creds = @{ $wf->{credentials} || [] };
    my %by_cat = map { $_->{category} => $_->{id} } @creds;
    my $created = $wf->{created_at} || time;
    my %parts = (ID => [qw(FRONT BACK)], SELFIE => ['FACE'], FACEMAP => ['FACEMAP'], DOCUMENT => ['FRONT']);
    my $ok = sub { { type => 'PASSED', details => { label => $_[0] || 'OK' } } };
    my $ref = sub { [map { { id => $by_cat{$_}, category => $_ } } grep { $by_cat{$_} } @_] };

    my %cap;
    $cap{usability} = [map { { credentials => $ref->($_->{category}), decision => $ok->() } } @creds];
    if ($by_cat{ID}) {
        $cap{imageChecks} = [{ credentials => $ref->('ID'), decision => $ok->() }];
        $cap{extraction} = [{
            credentials => $ref->('ID'), decision => $ok->(),
            data => {
                type => 'ID_CARD', subType => 'NATIONAL_ID', issuingCountry => 'AUT',
                firstName => 'JANE', lastName => 'DOE', dateOfBirth => '1990-01-01',
                expiryDate => '2031-12-01', issuingDate => '2021-12-01', documentNumber => 'X1234567',
                gender => 'F', nationality => 'AUT',
                address => { country => 'AUT', city => 'WIEN', postalCode => '1010',
                             formattedAddress => 'MUSTERGASSE 1, 1010 WIEN, AUT' },
            },
        }];
        $cap{dataChecks} = [{ credentials => $ref->('ID'), decision => $ok->() }];
    }
    my $facemap_href = $by_cat{FACEMAP}
        ? "$base/accounts/$aid/credentials/$by_cat{FACEMAP}/parts/FACEMAP" : undef;
    if ($wf->{definitionKey} eq '9') {
        $cap{authentication} = [{ credentials => $ref->(qw(FACEMAP SELFIE)), decision => $ok->(),
                                  validFaceMapForAuthentication => $facemap_href }];
    }
    elsif ($by_cat{FACEMAP}) {
        $cap{liveness} = [{ credentials => $ref->(qw(FACEMAP SELFIE)), decision => $ok->(),
                            data => { type => 'IPROOV_STANDARD' },
                            validFaceMapForAuthentication => $facemap_href }];
        $cap{similarity} = [{ credentials => $ref->(qw(ID SELFIE)), decision => $ok->('MATCH'),
                              data => { similarity => 'MATCH' } }] if $by_cat{ID};
    }

    return {
        workflow => { id => $wid, status => $wf->{status}, definitionKey => "$wf->{definitionKey}",
                      (defined $wf->{userReference} ? (userReference => $wf->{userReference}) : ()),
                      (defined $wf->{customerInternalReference}
                           ? (customerInternalReference => $wf->{customerInternalReference}) : ()) },
        account => { id => $aid },
        createdAt => timestamp($created),
        startedAt => timestamp($created + 60),
        completedAt => timestamp($created + 75),
        decision => { type => 'PASSED', details => { label => 'PASSED' }, risk => { score => 0 } },
        credentials => [map {
            my $c = $_;
            { id => $c->{id}, category => $c->{category},
              parts => [map { { classifier => $_,
                                href => "$base/accounts/$aid/credentials/$c->{id}/parts/$_" } }
                        @{ $parts{ $c->{category} } || [] }] }
        } @creds],
        capabilities => \%cap,
    };
}

# ======================================================================
# small helpers
# ======================================================================

sub random_token { b64url(random_bytes($_[0])) }

sub timestamp {
    my ($t) = @_;
    $t //= Time::HiRes::time();
    my $ms = int(($t - int $t) * 1000);
    return POSIX::strftime('%Y-%m-%dT%H:%M:%S', gmtime int $t) . sprintf('.%03dZ', $ms);
}

# An SDK token that looks like Jumio's (a JWT the fake signs with a throwaway key).
sub fake_jwt {
    my ($claims) = @_;
    my $h = b64url($JSON->encode({ alg => 'HS256', typ => 'JWT' }));
    my $p = b64url($JSON->encode({ %$claims, iat => time, exp => time + 1800 }));
    my $s = b64url(Digest::SHA::hmac_sha256("$h.$p", 'fake-jumio-sdk'));
    return "$h.$p.$s";
}

1;
