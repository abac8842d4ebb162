package JumioTest::Kit;

# The helpers the test files share, on top of JumioTest.pm: user ids, the module's database
# as rows, transactions started and followed through the fake Jumio (on the test server or
# an extra httpd, JumioTest::Httpd), and checks of the module's answers exactly as docs/DESIGN.md
# and docs/DESIGN.md say.  See t/README.md.

use strict;
use warnings;

use Exporter 'import';
use Fcntl qw(:flock);
use JSON::PP ();
use File::Temp ();
use POSIX ();
use Time::HiRes ();

use Apache::Test ();
use Test::More ();
use FakeJumio::State ();
use JumioTest ();

our @EXPORT = qw(
    $JSON $PORT $UA_STRING $UUID_RE $UUID4_RE $CB_TOKEN_RE $RUN
    new_user rows count_rows tx_row tx_count
    account_calls call_names tx_calls stale_token issued_token no_violations nothing_sent
    json_answer is_error nothing_stored intake_accepted intake_refused
    start_tx send_callback callback_ok poll_tx poll_answer poll_until_done processed_tx
    in_parallel
    fake_account_ids fake_user_calls deleted_accounts jumio_tables user_leftovers user_rows
    in_parallel_results
);

BEGIN { *is = \&Test::More::is; *like = \&Test::More::like; *ok = \&Test::More::ok;
        *is_deeply = \&Test::More::is_deeply; *diag = \&Test::More::diag; *fail = \&Test::More::fail; }

our $JSON        = FakeJumio::State->json;
our $PORT        = Apache::Test::vars('port');
our $UA_STRING   = $JumioTest::USER_AGENT;
our $UUID_RE     = qr/\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\z/;
our $UUID4_RE    = qr/\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z/;
our $CB_TOKEN_RE = qr/[A-Za-z0-9_-]{43}/;
our $RUN = sprintf '%x%x', time, $$;
my $SEQ = 0;

# A user id unique to this run and call: "<tag>-<run>-<n>".
sub new_user { sprintf '%s-%s-%d', shift // 'u', $RUN, ++$SEQ }

# ======================================================================
# the module's database
# ======================================================================

# rows([$h,] $sql, @bind): rows of the test server's database, or of extra httpd $h's when
# it is given first; an absent database or table gives none.
sub rows {
    my $h = ref $_[0] ? shift : undef;
    my @r = $h ? $h->db_rows(@_) : JumioTest::select_rows({ absent_ok => 1 }, @_);
    return @r;
}

sub count_rows { scalar(my @r = rows(@_)) }

# The stored row of transaction $t (a start_tx hash or a reference) on the test server's
# database or $h's; {} when there is none.
sub tx_row {
    my ($t, $h) = @_;
    return (rows($h // (), 'SELECT * FROM jumio_transactions WHERE workflow_id = ?',
                 ref $t ? $t->{ref} : $t))[0] || {};
}

# Names of the module's tables (jumio_*) in the test server's database, or extra httpd $h's.
sub jumio_tables {
    my ($h) = @_;
    my $mysql = $h ? !defined $h->db_path : JumioTest::db_is_mysql();
    my $sql = $mysql ? 'SELECT table_name AS name FROM information_schema.tables '
                       . "WHERE table_schema = DATABASE() AND table_name LIKE 'jumio%'"
                     : "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'jumio%'";
    return sort map { $_->{name} // $_->{NAME} // $_->{TABLE_NAME} } rows($h // (), $sql);
}

# Rows left of $user in the module's database (the test server's, or extra httpd $h's): rows
# of any jumio_* table with a column holding $user as a whole word (user_id, a callback body's
# userReference ...) or one of the workflow ids @refs.  Compared exactly (case, spaces) in
# Perl.  A list of "table: column=value ..." lines.
sub user_leftovers {
    my $h = ref $_[0] ? shift : undef;
    my ($user, @refs) = @_;
    my $mysql = $h ? !defined $h->db_path : JumioTest::db_is_mysql();
    my @found;
    for my $table (jumio_tables($h)) {
        my @cols = map { $_->{name} // $_->{Field} }
                   rows($h // (), $mysql ? "SHOW COLUMNS FROM $table" : "PRAGMA table_info($table)");
        next unless @cols;
        my @words = ($user, @refs);
        # one LIKE per column (OR of them all would be too deep an expression for SQLite)
        my $where = join ' OR ', map { "$_ LIKE ?" } @cols;
        my $re = join '|', map { quotemeta } @words;
        my %seen;
        for my $row (map { my $w = $_; rows($h // (), "SELECT * FROM $table WHERE $where", ("%$w%") x @cols) } @words) {
            next if $seen{ join "\0", map { $_ // '' } @$row{ sort keys %$row } }++;
            next unless grep { defined && /(?<![\w-])(?:$re)(?![\w-])/ } values %$row;
            push @found, "$table: " . join(' ', map { "$_=" . substr($row->{$_} // 'NULL', 0, 200) } sort keys %$row);
        }
    }
    return @found;
}

# user_rows([$h,] $table, $user): rows of $table whose user_id is exactly $user (a database
# may compare ids case- or trailing-space-insensitively; this does not).
sub user_rows {
    my $h = ref $_[0] ? shift : undef;
    my ($table, $user) = @_;
    return grep { $_->{user_id} eq $user } rows($h // (), "SELECT * FROM $table WHERE user_id = ?", $user);
}

# How many transactions are stored for $user.
sub tx_count { count_rows('SELECT workflow_id FROM jumio_transactions WHERE user_id = ?', $_[0]) }

# ======================================================================
# what the fake Jumio saw
# ======================================================================

# Account calls (POST and PUT) the fake recorded; scalar context: how many.
sub account_calls { grep { ($_->{endpoint} // '') =~ /\Aaccount_(?:create|update)\z/ } JumioTest::fake_requests() }

sub call_names { [ map { join ' ', $_->{method} // '?', $_->{path} // '?' } @_ ] }

# 1 for a request the fake refused because its access token was revoked or expired (an httpd
# child still caching a token an earlier test revoked: the module then fetches a new one and
# retries once, which is not what a fault test counts).
sub stale_token {
    my ($r) = @_;
    return ($r->{answer_status} // 0) == 401 && @{ $r->{violations} || [] } ? 1 : 0;
}

# Requests the fake recorded for transaction $t at endpoint 'status' or 'details' (under any
# account), without stale-token refusals unless with_stale => 1.
sub tx_calls {
    my ($t, $endpoint, %o) = @_;
    my $tail = $endpoint eq 'status' ? '/status' : '';
    my $path = qr{/workflow-executions/\Q$t->{ref}$tail\E\z};
    return grep { ($_->{path} // '') =~ $path && ($o{with_stale} || !stale_token($_)) }
        JumioTest::fake_requests($endpoint);
}

# 1 when the fake Jumio issued this access token (and it is still valid).
sub issued_token { FakeJumio::State->new(JumioTest::fake_dir())->token_valid($_[0]) ? 1 : 0 }

sub no_violations {
    my $name = shift;
    my @bad = grep { @{ $_->{violations} || [] } } JumioTest::fake_requests();
    is_deeply([ map { "$_->{method} $_->{path}: @{$_->{violations}}" } @bad ], [],
              "$name: the fake Jumio recorded no violations");
}

# Nothing sent to Jumio for this request: no account call, and no retrieval call for the
# transactions named (the module's background task may be busy with older transactions).
sub nothing_sent {
    my ($name, @ids) = @_;
    my @c = grep {
        my $r = $_;
        ($r->{endpoint} // '') =~ /\Aaccount_/ || grep { index($r->{path} // '', $_) >= 0 } @ids
    } JumioTest::fake_requests();
    is_deeply(call_names(@c), [], "$name: nothing sent to Jumio");
}

# Account ids the fake Jumio made for $user: those of its workflows whose userReference is
# exactly $user (every account POST or PUT makes one; fake_reset forgets them).
sub fake_account_ids {
    my ($user) = @_;
    my $s = FakeJumio::State->new(JumioTest::fake_dir());
    my %ids = $s->locked(LOCK_SH, sub {
        map { my $wf = $s->workflow($_) || {};
              ($wf->{userReference} // "\0") eq $user ? ($wf->{account_id} => 1) : () } $s->workflow_ids;
    });
    return sort keys %ids;
}

# The fake's requests at @endpoints (default account_create and account_update) whose body's
# userReference is exactly $user; scalar context: how many.
sub fake_user_calls {
    my ($user, @endpoints) = @_;
    @endpoints = qw(account_create account_update) unless @endpoints;
    my %ep = map { $_ => 1 } @endpoints;
    return grep { $ep{ $_->{endpoint} // '' } && (($_->{json} || {})->{userReference} // "\0") eq $user }
        JumioTest::fake_requests();
}

# Account ids the fake saw a Deletion API call (DELETE /accounts/<id>) for: {id => answer status}.
sub deleted_accounts {
    return { map { ($_->{path} // '') =~ m{/accounts/([^/]+)\z} ? ($1 => $_->{answer_status}) : () }
             JumioTest::fake_requests('delete_account') };
}

# ======================================================================
# checks of the module's answers
# ======================================================================

# Common headers of every answer; returns the decoded JSON body.
sub json_answer {
    my ($res, $name) = @_;
    like($res->header('Content-Type') // '', qr{\Aapplication/json(?:\s*;\s*charset="?utf-8"?)?\z}i,
         "$name: Content-Type application/json");
    is($res->header('Cache-Control'), 'no-store', "$name: Cache-Control no-store");
    my $d = JumioTest::json_of($res);
    ok(defined $d || $res->content =~ /\A\s*null\s*\z/, "$name: body is JSON")
        or diag('body: ' . substr($res->content, 0, 500));
    return $d;
}

# An error answer exactly as docs/DESIGN.md "Error answers" says.
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

# Nothing stored for $user after a refused intake: no transaction (tx => N: still N), no
# account mapping (account => $id: still $id only).
sub nothing_stored {
    my ($user, $name, %o) = @_;
    is(tx_count($user), $o{tx} // 0, "$name: no transaction stored");
    is_deeply([ map { $_->{account_id} } rows('SELECT account_id FROM jumio_accounts WHERE user_id = ?', $user) ],
              [ $o{account} // () ], "$name: " . (defined $o{account} ? 'account mapping unchanged' : 'no account stored'));
}

# An intake that must be accepted: $send->() sends it; 200, it reached Jumio and a
# transaction is stored for $user.  Returns the response.
sub intake_accepted {
    my ($name, $user, $send) = @_;
    my $calls = account_calls();
    my $res = $send->();
    is($res->code, 200, "$name: 200") or diag(substr($res->as_string, 0, 600));
    is(account_calls() - $calls, 1, "$name: the intake reached Jumio");
    is(tx_count($user), 1, "$name: stored for the token's user");
    return $res;
}

# An intake that must be refused for its token: $send->() sends it; 401 invalid_token,
# nothing stored for $user, nothing sent to Jumio.  Returns the response.
sub intake_refused {
    my ($name, $user, $send) = @_;
    my $calls = account_calls();
    my $res = $send->();
    is_error($res, 401, 'invalid_token', $name);
    is(tx_count($user), 0, "$name: nothing stored");
    is(account_calls() - $calls, 0, "$name: nothing sent to Jumio");
    return $res;
}

# ======================================================================
# transactions
# ======================================================================

# POST an intake as a user and follow it to the fake Jumio.  Options: user (default
# new_user(tag)), tag, path (default /jumio/intake), base (another server's URL), ua, body,
# headers; name (of the checks, default "intake for <user>"); calls => N: asserts the intake
# made N account calls; quiet => 1: no checks (under load).  Checks the 200 JSON answer
# unless quiet.  Returns {ref, account (Jumio's), token (the callback signing token), url (the
# callbackUrl Jumio got), user, base, answer, calls (the account calls it made, unless
# quiet), res}.
sub start_tx {
    my (%o) = @_;
    my $user = $o{user} // new_user($o{tag} // 'tx');
    my $name = $o{name} // "intake for $user";
    my $before = $o{quiet} ? 0 : account_calls();
    my $res = JumioTest::request(POST => $o{path} // '/jumio/intake', user => $user,
                                 map { exists $o{$_} ? ($_ => $o{$_}) : () } qw(base ua body headers));
    my ($d, @calls);
    if ($o{quiet}) {
        $d = JumioTest::json_of($res);
    }
    else {
        is($res->code, 200, "$name: HTTP 200") or diag(substr($res->as_string, 0, 800));
        $d = json_answer($res, $name);
        my @all = account_calls();
        @calls = @all[$before .. $#all];
        is(scalar @calls, $o{calls}, "$name: account calls: $o{calls}") if defined $o{calls};
    }
    $d = {} unless ref $d eq 'HASH';
    my $ref = $d->{transactionReference} // '';
    my $wf = ($ref ? JumioTest::fake_workflow($ref) : undef) || {};
    my $url = $wf->{callbackUrl} // '';
    my ($token) = $url =~ /[?&]jumio_token=([^&]+)/;
    return { ref => $ref, account => $wf->{account_id}, token => $token, url => $url, user => $user,
             base => $o{base}, answer => $d, calls => \@calls, res => $res };
}

# POST a callback for $t with $status as Jumio sends it (JSON; form => 1: urlencoded), signed
# with its token; callbackSentAt => marker (default a fixed time); base (default $t's), ua.
# Returns the response.
sub send_callback {
    my ($t, $status, %o) = @_;
    my $body = { workflowExecution => { id => $t->{ref}, status => $status, definitionKey => '3' },
                 account => { id => $t->{account} },
                 callbackSentAt => $o{marker} // '2024-05-01T10:00:00.000Z' };
    return JumioTest::callback($body, query => 'jumio_token=' . ($t->{token} // ''), form => $o{form},
                               base => $o{base} // $t->{base}, ua => $o{ua});
}

# send_callback, which must be acknowledged (200).  Returns the response.
sub callback_ok {
    my ($t, $status, %o) = @_;
    my $res = send_callback($t, $status, %o);
    is($res->code, 200, "callback $status: 200") or diag(substr($res->as_string, 0, 600));
    return $res;
}

# GET the poll of $t as its user (user => another), of ref => another reference; path
# (default /jumio/poll), base (default $t's), ua.  Returns the response.
sub poll_tx {
    my ($t, %o) = @_;
    return JumioTest::poll($o{ref} // $t->{ref}, path => $o{path}, token => undef,
                           user => $o{user} // $t->{user}, base => $o{base} // $t->{base}, ua => $o{ua});
}

# poll_tx, which must answer 200 with JSON; returns the decoded answer.
sub poll_answer {
    my ($t, $name, %o) = @_;
    my $res = poll_tx($t, %o);
    is($res->code, 200, "$name: HTTP 200") or diag(substr($res->as_string, 0, 800));
    return json_answer($res, $name);
}

# Polls until done (details may be in flight in the background task: the design allows
# {done: false, status: PROCESSED} meanwhile); every answer is checked.  %o: as poll_tx.
sub poll_until_done {
    my ($t, $name, %o) = @_;
    my $not = { done => JSON::PP::false, transactionReference => $t->{ref}, status => 'PROCESSED' };
    for my $i (1 .. 20) {
        my $d = poll_answer($t, "$name (poll $i)", %o);
        return $d unless ref $d eq 'HASH' && JSON::PP::is_bool($d->{done}) && !$d->{done};
        is_deeply($d, $not, "$name (poll $i): not done yet, PROCESSED");
        Time::HiRes::sleep(0.5);
    }
    fail("$name: done within 10 s");
    return undef;
}

# A transaction whose PROCESSED callback was acknowledged, its details not fetched yet:
# start_tx(%o), the fake's workflow PROCESSED (with details => a document, or a code ref
# making it from the transaction), callback_ok.  Returns the transaction, with {details}.
sub processed_tx {
    my (%o) = @_;
    my $details = delete $o{details};
    my $t = start_tx(%o);
    $t->{details} = ref $details eq 'CODE' ? $details->($t) : $details;
    JumioTest::fake_set_workflow($t->{ref}, status => 'PROCESSED',
                                 ($t->{details} ? (details => $t->{details}) : ()));
    callback_ok($t, 'PROCESSED', ua => $o{ua});
    return $t;
}

# ======================================================================
# concurrency
# ======================================================================

# Runs $code->($i) in $n forked processes that start together; returns their exit codes
# (each child exits with what $code returns, 0..255; 255 when it dies).
sub in_parallel {
    my ($n, $code) = @_;
    my $go = Time::HiRes::time() + 0.5;
    my @pids;
    for my $i (0 .. $n - 1) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            my $rc = eval { Time::HiRes::sleep($go - Time::HiRes::time()) if $go > Time::HiRes::time(); $code->($i) };
            POSIX::_exit(defined $rc ? $rc : 255);
        }
        push @pids, $pid;
    }
    return map { waitpid($_, 0); $? >> 8 } @pids;
}

# in_parallel, giving back what each $code->($i) returned (a list, JSON-encodable): array
# references in order of $i (['died'] for a process that gave nothing back).
sub in_parallel_results {
    my ($n, $code) = @_;
    my $dir = File::Temp->newdir;
    in_parallel($n, sub {
        my @v = $code->($_[0]);
        open(my $fh, '>', "$dir/$_[0]") or return 1;
        print {$fh} $JSON->encode(\@v);
        close $fh;
        return 0;
    });
    return map { my $f = "$dir/$_"; -s $f ? $JSON->decode(do { local (@ARGV, $/) = ($f); <> }) : ['died'] }
        0 .. $n - 1;
}

1;
