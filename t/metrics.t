# Metrics of jumio-status (shared by every child and thread of a node) and the log lines of
# Jumio calls: after a scripted mix of intakes, refused callbacks, polls and Jumio faults on a
# prefork httpd with several children and on an event httpd, every counter moved by exactly
# what the test sent (and the Jumio calls by exactly what the fake Jumio recorded); the
# Prometheus text is valid exposition format (parsed here); the JSON form carries the same
# figures; one info line per Jumio call with service, status, milliseconds and UNIQUE_ID;
# no secret in the error log at LogLevel jumio:debug.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;
use Time::HiRes ();

plan tests => 10, need_module('mod_perl.c');

my $MODULES = '/usr/lib/apache2/modules';
my $UNIQUE = -e "$MODULES/mod_unique_id.so";

# ---------------------------------------------------------------------------------------------
# A small parser of the Prometheus text exposition format (0.0.4)
# ---------------------------------------------------------------------------------------------

my $NAME_RE  = qr/[a-zA-Z_:][a-zA-Z0-9_:]*/;
my $LABEL_RE = qr/[a-zA-Z_][a-zA-Z0-9_]*/;
my $VALUE_RE = qr/[+-]?(?:\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|Inf)|NaN/;

# The labels text of a sample ('a="x",b="y"') as a hash, or undef when malformed.
sub prom_labels {
    my ($text) = @_;
    my %l;
    return {} if $text eq '';
    while ($text =~ /\G($LABEL_RE)="((?:[^"\\\n]|\\[\\"n])*)"(,|\z)/gc) {
        my ($k, $v, $sep) = ($1, $2, $3);
        return undef if exists $l{$k};
        $v =~ s/\\(.)/$1 eq 'n' ? "\n" : $1/ge;
        $l{$k} = $v;
        return \%l if $sep eq '';
    }
    return undef;
}

# The key of a series: name{k="v",...} with the labels sorted.
sub series_key {
    my ($name, $l) = @_;
    return $name unless %$l;
    return "$name\{" . join(',', map { qq{$_="$l->{$_}"} } sort keys %$l) . '}';
}

# Parse exposition text: ({series key => value}, [format errors], {family => type}).
sub prom_parse {
    my ($text) = @_;
    my (%help, %type, %s, @err, %done, %hist, $cur);
    my $n = 0;
    push @err, 'does not end with a newline' unless $text =~ /\n\z/;
    for my $line (split /\n/, $text) {
        $n++;
        next if $line eq '';
        if ($line =~ /\A#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?\z/) {
            my ($what, $fam, $rest) = ($1, $2, $3 // '');
            push @err, "line $n: bad family name $fam" unless $fam =~ /\A$NAME_RE\z/;
            push @err, "line $n: $what of $fam after its samples" if $done{$fam} || ($cur // '') eq $fam;
            if ($what eq 'HELP') {
                push @err, "line $n: second HELP of $fam" if exists $help{$fam};
                $help{$fam} = $rest;
            }
            else {
                push @err, "line $n: second TYPE of $fam" if exists $type{$fam};
                push @err, "line $n: bad type '$rest'"
                    unless $rest =~ /\A(?:counter|gauge|histogram|summary|untyped)\z/;
                $type{$fam} = $rest;
            }
            next;
        }
        next if $line =~ /\A#/;
        unless ($line =~ /\A($NAME_RE)(?:\{(.*)\})?[ \t]+($VALUE_RE)(?:[ \t]+-?\d+)?\z/) {
            push @err, "line $n: not a sample: $line";
            next;
        }
        my ($name, $ltext, $value) = ($1, $2 // '', $3);
        my $l = prom_labels($ltext);
        unless ($l) {
            push @err, "line $n: bad labels: $ltext";
            next;
        }
        my $fam = $name;
        if ($name =~ /\A(.+)_(bucket|sum|count)\z/ && ($type{$1} // '') eq 'histogram') {
            $fam = $1;
            my $part = $2;
            my %base = %$l;
            my $le = delete $base{le};
            my $h = $hist{$fam}{ series_key($fam, \%base) } //= { buckets => [] };
            if ($part eq 'bucket') {
                defined $le ? push @{ $h->{buckets} }, [$le, $value]
                            : push @err, "line $n: bucket without le";
            }
            else { $h->{$part} = $value }
        }
        push @err, "line $n: sample of $fam without TYPE" unless $type{$fam};
        push @err, "line $n: sample of $fam without HELP" unless exists $help{$fam};
        push @err, "line $n: counter $fam does not end in _total"
            if ($type{$fam} // '') eq 'counter' && $fam !~ /_total\z/;
        push @err, "line $n: le on a sample of a $type{$fam}"
            if exists $l->{le} && ($type{$fam} // '') ne 'histogram';
        if (($cur // '') ne $fam) {
            push @err, "line $n: samples of $fam are not together" if $done{$fam};
            $done{$cur} = 1 if defined $cur;
            $cur = $fam;
        }
        my $key = series_key($name, $l);
        push @err, "line $n: duplicate series $key" if exists $s{$key};
        $s{$key} = $value;
    }
    for my $fam (sort keys %hist) {
        for my $key (sort keys %{ $hist{$fam} }) {
            my $h = $hist{$fam}{$key};
            my @b = @{ $h->{buckets} };
            push @err, "$key: no buckets" unless @b;
            next unless @b;
            push @err, "$key: last bucket is not +Inf" unless $b[-1][0] eq '+Inf';
            for my $i (1 .. $#b) {
                push @err, "$key: le $b[$i][0] not above $b[$i-1][0]"
                    unless $b[$i][0] eq '+Inf' || $b[$i][0] > $b[$i-1][0];
                push @err, "$key: buckets not cumulative at le $b[$i][0]" if $b[$i][1] < $b[$i-1][1];
            }
            push @err, "$key: no _count" unless defined $h->{count};
            push @err, "$key: no _sum" unless defined $h->{sum};
            push @err, "$key: _count $h->{count} is not the +Inf bucket $b[-1][1]"
                if defined $h->{count} && $h->{count} != $b[-1][1];
            push @err, "$key: negative _sum" if defined $h->{sum} && $h->{sum} < 0;
        }
    }
    return (\%s, \@err, \%type);
}

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

# A valid scrape of node $h: {series => value}.
sub scrape {
    my ($h, $name) = @_;
    my $res = request(GET => '/jumio/status', base => $h->base, query => 'format=prometheus');
    is($res->code, 200, "$name: scrape 200") or diag(substr($res->as_string, 0, 600));
    like($res->header('Content-Type') // '', qr{\Atext/plain; version=0\.0\.4}, "$name: content type");
    my ($s, $err) = prom_parse($res->content);
    is_deeply($err, [], "$name: valid exposition format") or diag($res->content);
    return $s;
}

# The value of a series in a scrape (0 when absent).
sub val { my ($s, $name, %l) = @_; return $s->{ series_key($name, \%l) } // 0 }

# Every series that changed between two scrapes: {series => difference}.
sub deltas {
    my ($a, $b) = @_;
    my %d;
    for my $k (keys %$b) {
        next if $k =~ /_(?:bucket|sum)\{/ || $k =~ /_sum\z/;
        my $x = $b->{$k} - ($a->{$k} // 0);
        $d{$k} = $x if $x;
    }
    for my $k (keys %$a) { $d{$k} = -$a->{$k} if !exists $b->{$k} && $a->{$k} }
    return \%d;
}

# The Jumio call service and outcome of one request the fake recorded.
my %SERVICE = (token => 'token', account_create => 'account_create', account_update => 'account_update',
               status => 'status', details => 'details', delete_account => 'delete_account',
               delete_workflow => 'delete_workflow', health => 'health');
sub outcome_of {
    my ($st) = @_;
    return $st >= 200 && $st < 300 ? 'ok' : $st == 404 ? 'not_found' : $st == 429 ? 'busy'
         : $st >= 400 && $st < 500 ? 'rejected' : 'error';
}

my $STATUS_LOC = "<Location /jumio/status>\n    SetHandler jumio-status\n</Location>";

# The extra locations of a node: status, an intake with a quota, one with reuse.
sub node_conf {
    my ($port_ref) = @_;
    return join "\n", $STATUS_LOC,
        '<Location /jumio/intake-limit>', '    SetHandler jumio-intake', '    JumioWorkflowKey 3',
        '    JumioIntakeLimit 2 1h', '</Location>',
        '<Location /jumio/intake-reuse>', '    SetHandler jumio-intake', '    JumioWorkflowKey 3',
        '    JumioIntakeReuse on', '</Location>';
}

# The scripted mix on node $h; returns what was sent: {expected series => delta} and the
# transactions and tokens seen (for the log checks).
sub mix {
    my ($h, $name) = @_;
    my $b = $h->base;
    my %want;
    my @seen;
    my $add = sub { my ($n, $k, %l) = @_; $want{ series_key($k, \%l) } += $n };

    # 6 intakes of new users at once (several children or threads)
    my @tx = map { $_->[0] } in_parallel_results(6, sub {
        my $t = start_tx(base => $b, quiet => 1, tag => 'metrics');
        return { map { $_ => $t->{$_} } qw(ref account token user base answer) },
    });
    is(scalar(grep { ($_->{ref} // '') =~ $UUID_RE } @tx), 6, "$name: 6 intakes answered a reference");
    push @seen, @tx;
    $add->(6, 'jumio_requests_total', handler => 'intake', code => '2xx');
    $add->(6, 'jumio_intakes_total', result => 'created');

    # 2 intakes without a token: 401
    for (1 .. 2) {
        is(request(POST => '/jumio/intake', base => $b, token => undef)->code, 401, "$name: intake without token 401");
    }
    $add->(2, 'jumio_requests_total', handler => 'intake', code => '4xx');

    # quota: 2 created, the third 429
    my $lu = new_user('mlimit');
    my @codes = map { request(POST => '/jumio/intake-limit', base => $b, user => $lu)->code } 1 .. 3;
    is_deeply(\@codes, [200, 200, 429], "$name: quota 2 1h");
    $add->(2, 'jumio_requests_total', handler => 'intake', code => '2xx');
    $add->(1, 'jumio_requests_total', handler => 'intake', code => '4xx');
    $add->(2, 'jumio_intakes_total', result => 'created');
    $add->(1, 'jumio_intakes_total', result => 'limited');

    # reuse: the second answers the first again
    my $ru = new_user('mreuse');
    my @reuse = map { json_of(request(POST => '/jumio/intake-reuse', base => $b, user => $ru)) || {} } 1 .. 2;
    ok(!$reuse[0]{reused} && $reuse[1]{reused}, "$name: second intake reused");
    $add->(2, 'jumio_requests_total', handler => 'intake', code => '2xx');
    $add->(1, 'jumio_intakes_total', result => 'created');
    $add->(1, 'jumio_intakes_total', result => 'reused');

    # Jumio faults: account POST 500 (502 upstream_error), 429 (503 upstream_busy)
    fake_control('account_create', { status => 500, body => 'oops', content_type => 'text/plain', times => 1 });
    is(request(POST => '/jumio/intake', base => $b, user => new_user('mfault'))->code, 502, "$name: account 500 -> 502");
    fake_control('account_create', { status => 429, headers => { 'Retry-After' => '7' }, times => 1 });
    is(request(POST => '/jumio/intake', base => $b, user => new_user('mbusy'))->code, 503, "$name: account 429 -> 503");
    fake_control('account_create');
    $add->(2, 'jumio_requests_total', handler => 'intake', code => '5xx');

    # callbacks: 3 accepted, 2 with a wrong token, 2 of unknown transactions, 1 not JSON
    callback_ok($_, 'ACQUIRED') for @tx[0 .. 2];
    $add->(3, 'jumio_requests_total', handler => 'callback', code => '2xx');
    $add->(3, 'jumio_callbacks_total', result => 'accepted', reason => 'stored');
    for my $t (@tx[3, 4]) {
        is(send_callback({ %$t, token => 'x' x 43 }, 'ACQUIRED')->code, 403, "$name: wrong token 403");
    }
    $add->(2, 'jumio_callbacks_total', result => 'refused', reason => 'bad_token');
    for (1 .. 2) {
        my $u = { ref => uuid_v4(), account => uuid_v4(), token => 'y' x 43, base => $b };
        is(send_callback($u, 'ACQUIRED')->code, 403, "$name: unknown transaction 403");
    }
    $add->(2, 'jumio_callbacks_total', result => 'refused', reason => 'unknown_transaction');
    is(request(POST => '/jumio/callback', base => $b, body => 'not json', content_type => 'application/json')->code,
       400, "$name: callback not JSON 400");
    $add->(1, 'jumio_callbacks_total', result => 'refused', reason => 'bad_request');
    $add->(5, 'jumio_requests_total', handler => 'callback', code => '4xx');

    # polls: 4 of the owner, 1 of another user (404), 1 without a token (401)
    is(poll_tx($_, base => $b)->code, 200, "$name: poll 200") for @tx[0 .. 3];
    is(poll_tx($tx[0], base => $b, user => new_user('other'))->code, 404, "$name: poll of another user 404");
    is(request(GET => '/jumio/poll', base => $b, token => undef,
               headers => ['X-Transaction-Reference' => $tx[0]{ref}])->code, 401, "$name: poll without token 401");
    $add->(4, 'jumio_requests_total', handler => 'poll', code => '2xx');
    $add->(2, 'jumio_requests_total', handler => 'poll', code => '4xx');

    # a PROCESSED transaction: details fetched by the poll (after one details 500 and retries)
    fake_set_workflow($tx[5]{ref}, status => 'PROCESSED');
    callback_ok($tx[5], 'PROCESSED');
    $add->(1, 'jumio_requests_total', handler => 'callback', code => '2xx');
    $add->(1, 'jumio_callbacks_total', result => 'accepted', reason => 'stored');
    fake_control('details', { status => 500, body => 'oops', content_type => 'text/plain', times => 1 });
    my $d = json_of(poll_tx($tx[5], base => $b)) || {};
    ok($d->{done}, "$name: poll of the PROCESSED transaction done (details after a retry)");
    $add->(1, 'jumio_requests_total', handler => 'poll', code => '2xx');
    return (\%want, \@tx);
}

# The checks of one node: scrape, mix, scrape; every delta as sent.
sub check_node {
    my ($h, $name) = @_;
    my $before = scrape($h, "$name before");
    fake_reset();
    my ($want, $tx) = mix($h, $name);
    my $after = scrape($h, "$name after");
    my @calls = fake_requests();    # the last scrape's health check (if any) included
    # the first scrape is counted by the second, which does not count itself
    $want->{ series_key('jumio_requests_total', { handler => 'status', code => '2xx' }) } += 1;
    my (%svc, $tokens_ok);
    for my $r (@calls) {
        my $s = $SERVICE{ $r->{endpoint} } or next;
        $want->{ series_key('jumio_api_calls_total', { service => $s, outcome => outcome_of($r->{answer_status}) }) }++;
        $want->{ series_key('jumio_api_call_duration_seconds_count', { service => $s }) }++;
        $want->{ series_key('jumio_token_fetches_total', { result => 'ok' }) }++
            if $s eq 'token' && $r->{answer_status} == 200;
    }
    my $got = deltas($before, $after);
    # gauges of the database (cached) move with it; they are checked separately
    delete $got->{$_} for grep { /\Ajumio_(?:transactions|transactions_pending|details_pending|callbacks|accounts|up|database_up|upstream_up)\z/ } keys %$got;
    is_deeply($got, $want, "$name: every counter moved by exactly what was sent")
        or diag(explain({ got => $got, want => $want }));
    is(val($after, 'jumio_database_errors_total', kind => 'error'), 0, "$name: no database error");
    return ($before, $after, $tx);
}

# ---------------------------------------------------------------------------------------------

my @secrets;  # what must never be logged

my $pre = extra_httpd(name => 'm-prefork', mpm => 'prefork', start_servers => 4, workers => 8, max_spare => 8,
                      schedule => [60], loglevel => 'warn jumio:debug',
                      conf => ($UNIQUE ? "LoadModule unique_id_module $MODULES/mod_unique_id.so\n" : '') . node_conf());
my $ev = extra_httpd(name => 'm-event', mpm => 'event', workers => 32, threads => 16, schedule => [60],
                     conf => node_conf());

my ($p_before, $p_after, $p_tx);
subtest 'prefork, several children: every counter as sent' => sub {
    ok(scalar(my @k = $pre->child_pids) >= 2, 'several children');
    ($p_before, $p_after, $p_tx) = check_node($pre, 'prefork');
};

subtest 'event, threads: every counter as sent' => sub {
    check_node($ev, 'event');
};

subtest 'families: HELP, TYPE, names, histogram of every service called' => sub {
    my $res = request(GET => '/jumio/status', base => $pre->base, query => 'format=prometheus');
    my ($s, $err, $type) = prom_parse($res->content);
    is_deeply($err, [], 'valid');
    is($type->{$_->[0]}, $_->[1], "$_->[0] is a $_->[1]") for
        ['jumio_requests_total', 'counter'], ['jumio_api_calls_total', 'counter'],
        ['jumio_api_call_duration_seconds', 'histogram'], ['jumio_token_fetches_total', 'counter'],
        ['jumio_callbacks_total', 'counter'], ['jumio_intakes_total', 'counter'],
        ['jumio_notifications_total', 'counter'], ['jumio_notifications_pending', 'gauge'],
        ['jumio_retention_purged_total', 'counter'], ['jumio_retention_deletions_total', 'counter'],
        ['jumio_background_rounds_total', 'counter'], ['jumio_database_errors_total', 'counter'],
        ['jumio_transactions', 'gauge'], ['jumio_up', 'gauge'];
    is(val($s, 'jumio_notifications_total', result => 'sent'), 0, 'notifications sent: 0 for now');
    is(val($s, 'jumio_notifications_total', result => 'failed'), 0, 'notifications failed: 0 for now');
    ok(exists $s->{'jumio_notifications_pending'}, 'notifications pending present');
    ok(exists $s->{ series_key('jumio_retention_deletions_total', { result => 'ok' }) }, 'retention deletions present');
    is(val($s, 'jumio_background_rounds_total'), 0, 'no background round (JumioBackgroundInterval 0)');
    my @le = map { /le="([^"]+)"/ ? $1 : () } grep { /\Ajumio_api_call_duration_seconds_bucket\{.*service="token"/ } sort keys %$s;
    ok((grep { $_ eq '+Inf' } @le) && (grep { $_ eq '0.1' } @le) && (grep { $_ eq '1' } @le),
       'buckets in seconds (0.1, 1, +Inf)');
    my $sum = val($s, 'jumio_api_call_duration_seconds_sum', service => 'token');
    ok($sum > 0 && $sum < 60, "token calls: _sum in seconds ($sum)");
};

subtest 'JSON form carries the same figures' => sub {
    my $res = request(GET => '/jumio/status', base => $pre->base, query => 'format=prometheus');
    my ($s) = prom_parse($res->content);
    my $j = json_of(request(GET => '/jumio/status', base => $pre->base)) || {};
    ok(ref $j->{metrics} eq 'HASH', 'metrics object') or return;
    my %flat;
    for my $fam (keys %{ $j->{metrics} }) {
        my $f = $j->{metrics}{$fam};
        for my $x (@{ $f->{samples} || [] }) {
            my %l = %{ $x->{labels} || {} };
            if ($f->{type} eq 'histogram') {
                $flat{ series_key("${fam}_bucket", { %l, le => $_ }) } = $x->{buckets}{$_} for keys %{ $x->{buckets} };
                $flat{ series_key("${fam}_sum", \%l) } = $x->{sum};
                $flat{ series_key("${fam}_count", \%l) } = $x->{count};
            }
            else { $flat{ series_key($fam, \%l) } = $x->{value} }
        }
    }
    my $status = series_key('jumio_requests_total', { handler => 'status', code => '2xx' });
    is($flat{$status}, $s->{$status} + 1, 'status requests: one more (the scrape before)');
    my %p = %$s;
    delete $p{$_} for $status, grep { /\Ajumio_(?:transactions|transactions_pending|details_pending|callbacks|accounts|up|database_up|upstream_up)\z/ || /_sum\b/ } keys %p;
    delete $flat{$_} for $status, grep { /_sum\b/ } keys %flat;
    # either request may have asked Jumio's health check (cached 30 s per child)
    for my $h (\%flat, \%p) { delete $h->{$_} for grep { /service="health"/ } keys %$h }
    is_deeply(\%flat, \%p, 'every other figure the same');
};

subtest 'database gauges: cached, no count per scrape' => sub {
    my $h = $pre;
    my $n = count_rows($h, 'SELECT workflow_id FROM jumio_transactions');
    my $g = sub { (json_of(request(GET => '/jumio/status', base => $h->base)) || {})->{counters} || {} };
    sleep 6;    # past the cache
    is($g->()->{transactions}, $n, 'transactions as in the database once the cache is old');
    start_tx(base => $h->base, quiet => 1, tag => 'mcache');
    is($g->()->{transactions}, $n, 'within the cache time: the cached figure');
    sleep 6;
    is($g->()->{transactions}, $n + 1, 'after it: the new figure');
};

subtest 'one info line per Jumio call: service, status, ms, UNIQUE_ID' => sub {
    plan skip_all => 'mod_unique_id.so not installed' unless $UNIQUE;
    my $log = $pre->error_log_text;
    my @lines = grep { /mod_jumio: Jumio call / } split /\n/, $log;
    ok(scalar @lines >= 10, 'call lines logged (' . scalar(@lines) . ')');
    my @bad = grep { !/\[jumio:info\].*mod_jumio: Jumio call service=[a-z_]+ status=(?:\d{3}|-) ms=\d+ unique_id=[A-Za-z0-9\@_-]{20,}\s*\z/ } @lines;
    is_deeply(\@bad, [], 'every line: [jumio:info], service, status, ms, unique_id');
    my $sum = 0;
    $sum += $_ for map { $p_after->{$_} - ($p_before->{$_} // 0) } grep { /\Ajumio_api_calls_total/ } keys %$p_after;
    ok($sum > 0 && scalar(@lines) >= $sum, "at least one line per call counted ($sum)");
    my %svc = map { /service=([a-z_]+)/ ? ($1 => 1) : () } @lines;
    ok($svc{$_}, "service $_ logged") for qw(token account_create account_update details health);
};

subtest 'event node (LogLevel info, no mod_unique_id): call lines without unique_id' => sub {
    my @lines = grep { /mod_jumio: Jumio call / } split /\n/, $ev->error_log_text;
    ok(scalar @lines >= 10, 'call lines logged');
    is_deeply([grep { !/mod_jumio: Jumio call service=[a-z_]+ status=(?:\d{3}|-) ms=\d+\s*\z/ } @lines], [],
              'service, status, ms, nothing else');
};

subtest 'LogLevel jumio:debug is per module; every line of ours is tagged jumio' => sub {
    my $log = $pre->error_log_text;
    my @ours = grep { /mod_jumio:/ } split /\n/, $log;
    is_deeply([grep { !/\[jumio:(?:emerg|alert|crit|error|warn|notice|info|debug)\]/ } @ours], [],
              'every mod_jumio line carries the module tag (APLOG_USE_MODULE)');
    ok((grep { /\[jumio:debug\]/ } @ours), 'debug lines of mod_jumio');
    is_deeply([grep { /\[(?!jumio:)[a-z_]*:(?:debug|info)\]/ } split /\n/, $log], [],
              'no debug or info line of another module (LogLevel warn for them)');
    my @ev = grep { /\[jumio:debug\]/ } split /\n/, $ev->error_log_text;
    is(scalar @ev, 0, 'LogLevel info: no debug line of mod_jumio');
};

subtest 'no secret in the error log at LogLevel jumio:debug' => sub {
    my $log = $pre->error_log_text . $ev->error_log_text;
    my @tokens = map { (split m{/}, $_)[-1] } glob(fake_dir() . '/tokens/*');
    ok(scalar @tokens, 'the fake issued access tokens');
    my %secret = ('client secret' => 'test-secret-value', 'JWT key' => $JumioTest::JWT_SECRET,
                  (map { ("access token $_" => $_) } @tokens),
                  (map { ("callback token $_->{token}" => $_->{token}) } grep { $_->{token} } @$p_tx),
                  (map { my ($a) = ($_->{answer}{link} // '') =~ /authorizationToken=([^&]+)/; $a ? ("web link token" => $a) : () } @$p_tx));
    for my $k (sort keys %secret) {
        ok(index($log, $secret{$k}) < 0, "not logged: $k");
    }
    unlike($log, qr/eyJ[A-Za-z0-9_-]{8,}\.eyJ/, 'no JWT');
    unlike($log, qr/Bearer /, 'no Authorization header');
    unlike($log, qr/jumio_token=/, 'no callback URL with its token');
    unlike($log, qr/mlimit-|mreuse-|metrics-\S+-\d|mfault-|mbusy-/, 'no user id');
};

subtest 'graceful restart: the figures are kept (the segment lives in the process pool)' => sub {
    my $a = scrape($pre, 'before graceful');
    ok($pre->graceful, 'graceful restart done');
    my $b = scrape($pre, 'after graceful');
    my $st = series_key('jumio_requests_total', { handler => 'status', code => '2xx' });
    is($b->{$st}, $a->{$st} + 1, 'status requests: one more');
    my @lost = grep { !/\Ajumio_(?:up|database_up|upstream_up|transactions|transactions_pending|details_pending|callbacks|accounts|notifications_pending)\z/
                      && ($b->{$_} // 0) < $a->{$_} } keys %$a;
    is_deeply(\@lost, [], 'no figure went down');
    ok(val($b, 'jumio_intakes_total', result => 'created') >= 9, 'intakes of the mix still counted');
};
