package JumioTest::Kit;

# Small helpers shared by the reliability tests (t/background.t, t/faults.t,
# t/durability.t, t/graceful.pl): requests to the test server or to an extra httpd
# (JumioTest::Httpd), answer checks, transactions started and followed through the fake.

use strict;
use warnings;

use Exporter 'import';
use HTTP::Request ();
use JSON::PP ();
use LWP::UserAgent ();
use Test::More ();
use Time::HiRes ();

use Apache::Test ();
use Apache::TestRequest ();
use JumioTest ();

our @EXPORT = qw(new_user uuid_v4 req json_body is_error is_json_answer start_tx send_callback
                 poll_tx tx_calls stale_token tx_row rows_of wait_until $JSON);

our $JSON = JSON::PP->new->utf8->canonical->allow_nonref;
my $RUN = sprintf '%x%x', time, $$;
my $SEQ = 0;

# A user id unique to this run and call.
sub new_user { sprintf '%s-%s-%d', shift // 'u', $RUN, ++$SEQ }

sub uuid_v4 {
    my @b = map { int rand 256 } 1 .. 16;
    $b[6] = ($b[6] & 0x0f) | 0x40;
    $b[8] = ($b[8] & 0x3f) | 0x80;
    my $h = join '', map { sprintf '%02x', $_ } @b;
    return join '-', substr($h, 0, 8), substr($h, 8, 4), substr($h, 12, 4), substr($h, 16, 4),
        substr($h, 20);
}

# req($method, $path_or_url, user => $u (Bearer JWT), auth => raw Authorization,
#     headers => [k => v], body => string or hashref (JSON), ua => LWP::UserAgent, base => URL)
sub req {
    my ($method, $path, %o) = @_;
    my @h = @{ $o{headers} || [] };
    push @h, Authorization => 'Bearer ' . JumioTest::jwt(sub => $o{user}, exp => time + 600)
        if defined $o{user};
    push @h, Authorization => $o{auth} if defined $o{auth};
    my $body = $o{body};
    if (ref $body) {
        $body = $JSON->encode($body);
        push @h, 'Content-Type' => 'application/json';
    }
    my $url = $path =~ m{\A\w+://} ? $path
            : defined $o{base} ? "$o{base}$path" : Apache::TestRequest::resolve_url($path);
    my $r = HTTP::Request->new($method => $url, \@h);
    if (defined $body) {
        $r->content($body);
        $r->header('Content-Length' => length $body);
    }
    elsif ($method eq 'POST' || $method eq 'PUT') {
        $r->header('Content-Length' => 0);
    }
    my $ua = $o{ua} || LWP::UserAgent->new(timeout => 60, max_redirect => 0, keep_alive => 0);
    return $ua->request($r);
}

sub json_body {
    my ($res) = @_;
    my $d = eval { $JSON->decode($res->content) };
    return $@ ? undef : $d;
}

# Checks Content-Type and Cache-Control of a module answer; returns the decoded body.
sub is_json_answer {
    my ($res, $name) = @_;
    Test::More::like($res->header('Content-Type') // '', qr{\Aapplication/json\b}i,
                     "$name: Content-Type application/json");
    Test::More::is($res->header('Cache-Control'), 'no-store', "$name: Cache-Control no-store");
    return json_body($res);
}

# An error answer as SPEC §2 says: status, {error, message}, JSON, no-store.
sub is_error {
    my ($res, $status, $code, $name) = @_;
    Test::More::is($res->code, $status, "$name: HTTP $status")
        or Test::More::diag(substr($res->as_string, 0, 600));
    my $d = is_json_answer($res, $name);
    $d = {} unless ref $d eq 'HASH';
    Test::More::is($d->{error}, $code, "$name: error $code");
    Test::More::is_deeply([sort keys %$d], [qw(error message)], "$name: only error and message");
    return $d;
}

# POST an intake (base: another server's URL; path default /jumio/intake) and follow it to
# the fake: {ref, account, user, token (callback signing token), base, res}.  Asserts the
# 200 unless quiet => 1.
sub start_tx {
    my (%o) = @_;
    my $user = $o{user} // new_user($o{tag} // 'tx');
    my $res = req(POST => $o{path} // '/jumio/intake', user => $user, base => $o{base},
                  ua => $o{ua});
    if (!$o{quiet}) {
        Test::More::is($res->code, 200, "intake for $user: 200")
            or Test::More::diag(substr($res->as_string, 0, 600));
    }
    my $d = json_body($res) || {};
    my $ref = $d->{transactionReference} // '';
    my $wf = ($ref ? JumioTest::fake_workflow($ref) : undef) || {};
    my ($token) = ($wf->{callbackUrl} // '') =~ /jumio_token=([^&]+)/;
    return { ref => $ref, account => $wf->{account_id}, user => $user, token => $token,
             base => $o{base}, res => $res };
}

# POST a callback for $t with $status (signed with its token); returns the response.
sub send_callback {
    my ($t, $status, %o) = @_;
    my $body = $JSON->encode({ workflowExecution => { id => $t->{ref}, status => $status },
                               account => { id => $t->{account} },
                               callbackSentAt => $o{marker} // '2024-05-01T10:00:00.000Z' });
    return req(POST => '/jumio/callback?jumio_token=' . ($t->{token} // ''), body => $body,
               headers => ['Content-Type' => 'application/json'],
               base => $o{base} // $t->{base}, ua => $o{ua});
}

# GET the poll of $t as its user; returns the response.
sub poll_tx {
    my ($t, %o) = @_;
    return req(GET => '/jumio/poll', user => $o{user} // $t->{user},
               headers => ['X-Transaction-Reference' => $t->{ref}],
               base => $o{base} // $t->{base}, ua => $o{ua});
}

# 1 for a request the fake refused because its access token was revoked or expired (an httpd
# child still caching a token an earlier test revoked: the module then fetches a new one and
# retries once, which is not what a fault test counts).
sub stale_token {
    my ($r) = @_;
    return ($r->{answer_status} // 0) == 401 && @{ $r->{violations} || [] } ? 1 : 0;
}

# Requests the fake recorded for this transaction: endpoint 'status' or 'details' (without
# stale-token refusals).
sub tx_calls {
    my ($t, $endpoint) = @_;
    my $path = "/fake/retrieval/api/v1/accounts/" . ($t->{account} // '?')
             . "/workflow-executions/$t->{ref}" . ($endpoint eq 'status' ? '/status' : '');
    return grep { ($_->{path} // '') eq $path && !stale_token($_) } JumioTest::fake_requests($endpoint);
}

# Rows of $sql on the test server's database ($h: an extra httpd's database instead).
sub rows_of {
    my ($h, $sql, @bind) = @_;
    return $h->db_rows($sql, @bind) if $h;
    my @r = eval { JumioTest::db_rows($sql, @bind) };
    if ($@) { return () if $@ =~ /no such table|doesn't exist|does not exist \(yet\)/i; die $@ }
    return @r;
}

# The transaction's row ({} when none).
sub tx_row {
    my ($t, $h) = @_;
    return (rows_of($h, 'SELECT * FROM jumio_transactions WHERE workflow_id = ?', $t->{ref}))[0] || {};
}

# Calls $cond every 0.1 s until it is true or $secs pass; its last value.
sub wait_until {
    my ($secs, $cond) = @_;
    my $until = Time::HiRes::time() + $secs;
    while (Time::HiRes::time() < $until) {
        my $v = $cond->();
        return $v if $v;
        Time::HiRes::sleep(0.1);
    }
    return $cond->();
}

1;
