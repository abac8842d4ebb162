package FakeJumioWeb;
# The fake Jumio's web journey (scripts/demo, t/browser.t): the `link` of an intake opens this
# page (JUMIO_FAKE_WEB_BASE, or the fake's `web_base` rule) in the portal's iframe. Like Jumio's
# web client it posts its state to window.parent (a JSON string: eventType 510, payload.value
# loaded / success / error with metainfo.code) and at the end sends the browser to the
# web.successUrl / web.errorUrl of the intake with Jumio's query parameters (accountId,
# workflowExecutionId, acquisitionStatus, customerInternalReference, errorCode). Its buttons
# choose the outcome the way the fake decides results (FakeJumio::State): PASSED (details
# left to the fake's default PASSED document), REJECTED (a REJECTED liveness), SESSION_EXPIRED,
# or a web client error code; the first three change the workflow's status and POST Jumio's
# callback (form-urlencoded, dotted keys) to the callbackUrl the module sent.
use strict;
use warnings;

use Apache2::RequestRec ();
use Apache2::RequestIO ();
use Apache2::ServerUtil ();
use APR::Table ();
use Apache2::Const -compile => qw(OK NOT_FOUND HTTP_METHOD_NOT_ALLOWED HTTP_SEE_OTHER);
use Fcntl qw(:flock);
use HTTP::Tiny ();
use JSON::PP ();
use POSIX qw(strftime);
use FakeJumio::State ();

# Jumio's web client error codes ("After the User Journey" of the KYX guide).
our @ERROR_CODES = qw(9100 9200 9210 9300 9400 9800 9801 9810 9820 9821 9822 9835 9836);
my %ERROR_CODE = map { $_ => 1 } @ERROR_CODES;

my $JSON = JSON::PP->new->utf8->canonical;

# GET /fake/web/<id>: the journey page; POST /fake/web/<id>/<outcome>: end it.
sub handler {
    my ($r) = @_;
    my $state = FakeJumio::State->new(FakeJumio::State::default_dir(Apache2::ServerUtil::server_root()));
    my ($id, $outcome) = $r->uri =~ m{\A/fake/web/([0-9a-f-]{36})(?:/(\w+))?\z};
    my $wf = $id ? $state->workflow($id) : undef;
    return Apache2::Const::NOT_FOUND unless $wf;
    if (!$outcome && $r->method eq 'GET') {
        return page($r, $id, $wf);
    }
    return Apache2::Const::HTTP_METHOD_NOT_ALLOWED unless $r->method eq 'POST';
    my %form = read_form($r);
    if ($outcome eq 'error') {
        my $code = $form{code} // '';
        return Apache2::Const::NOT_FOUND unless $ERROR_CODE{$code};
        return finish($r, $id, $wf, 'ERROR', $code, "Journey ended with error $code",
                      'no callback (the workflow stays ' . $wf->{status} . ')');
    }
    my %status = (passed => 'PROCESSED', rejected => 'PROCESSED', expired => 'SESSION_EXPIRED');
    return Apache2::Const::NOT_FOUND unless $status{$outcome};
    $state->locked(LOCK_EX, sub {
        $wf = $state->workflow($id);
        $wf->{status} = $status{$outcome};
        $wf->{details} = rejected_details($id, $wf) if $outcome eq 'rejected';
        $state->save_workflow($id, $wf);
    });
    my $sent = send_callback($wf, $id);
    # a user who walked away is not sent anywhere
    return end_page($r, "Journey ended: $wf->{status}", "Callback to the module: $sent")
        if $outcome eq 'expired';
    return finish($r, $id, $wf, 'SUCCESS', undef, "Journey ended: $wf->{status}",
                  "Callback to the module: $sent");
}

# Send the browser to the success or error URL with Jumio's query parameters, or show the
# end page when the intake gave none.
sub finish {
    my ($r, $id, $wf, $acquisition, $code, $title, $text) = @_;
    my $web = ref $wf->{web} eq 'HASH' ? $wf->{web} : {};
    my $url = $acquisition eq 'SUCCESS' ? $web->{successUrl} : $web->{errorUrl};
    return end_page($r, $title, $text) unless $url;
    my @q = (accountId => $wf->{account_id}, workflowExecutionId => $id,
             acquisitionStatus => $acquisition,
             customerInternalReference => $wf->{customerInternalReference} // '',
             (defined $code ? (errorCode => $code) : ()));
    my $query = '';
    while (my ($k, $v) = splice @q, 0, 2) {
        $query .= ($query ? '&' : '') . "$k=" . uri_escape($v);
    }
    $r->headers_out->set(Location => $url . ($url =~ /\?/ ? '&' : '?') . $query);
    $r->status(Apache2::Const::HTTP_SEE_OTHER);
    return Apache2::Const::OK;
}

sub end_page {
    my ($r, $title, $text) = @_;
    $r->content_type('text/html; charset=utf-8');
    $r->print("<!doctype html><meta charset=utf-8><link rel=icon href='data:,'>"
              . "<body style='font-family:sans-serif'><h2>" . html($title) . "</h2><p>" . html($text) . "</p>");
    return Apache2::Const::OK;
}

# The journey page: it posts `loaded` to its parent, and one button per outcome.
sub page {
    my ($r, $id, $wf) = @_;
    my %q = parse_query($r->args // '');
    my ($token) = ($wf->{web_href} // '') =~ /[?&]authorizationToken=([^&]+)/;
    my $valid = defined $token && defined $q{authorizationToken} && $q{authorizationToken} eq $token;
    my $info = $JSON->encode({
        accountId => $wf->{account_id}, workflowExecutionId => $id,
        customerInternalReference => $wf->{customerInternalReference} // '',
        authorizationToken => $q{authorizationToken} // '', valid => $valid ? JSON::PP::true : JSON::PP::false,
    });
    $info =~ s{</}{<\\/}g;
    my $options = join '', map { "<option>$_</option>" } @ERROR_CODES;
    my $status = html($wf->{status});
    $r->content_type('text/html; charset=utf-8');
    $r->print(<<"HTML");
<!doctype html><html lang=en><meta charset=utf-8><title>Fake Jumio journey</title>
<link rel=icon href="data:,">
<body style="font-family:sans-serif;background:#f4f6fb;margin:0;padding:1em">
<h2 style="margin-top:0">Fake Jumio web journey</h2>
<p>Workflow <code>$id</code> (definition key $wf->{definitionKey}), status <span id=wfstatus>$status</span>.</p>
<p id=invalid hidden><b>Authorization token missing or wrong: error 9200.</b></p>
<div id=steps>
<p>The real web client would capture an ID and a selfie here. End the journey:</p>
<form method=post action="/fake/web/$id/passed" data-message=success><button id=pass>Finish: every check PASSED</button></form><br>
<form method=post action="/fake/web/$id/rejected" data-message=success><button id=reject>Finish: liveness REJECTED</button></form><br>
<form method=post action="/fake/web/$id/expired"><button id=expire>Walk away: SESSION_EXPIRED</button></form><br>
<form method=post action="/fake/web/$id/error" data-message=error>
  <select name=code id=code>$options</select> <button id=fail>Fail with this web client error</button></form>
</div>
<script type="application/json" id=journey>$info</script>
<script>
(function () {
  var info = JSON.parse(document.getElementById('journey').textContent);
  // what Jumio's web client posts to its parent (KYX guide, "Displaying the Web Client")
  function post(value, code) {
    var data = { accountId: info.accountId, authorizationToken: info.authorizationToken,
                 workflowExecutionId: info.workflowExecutionId,
                 customerInternalReference: info.customerInternalReference, eventType: 510,
                 dateTime: new Date().toISOString(), payload: { value: value } };
    if (code) data.payload.metainfo = { code: code };
    window.parent.postMessage(JSON.stringify(data), '*');
  }
  if (!info.valid) {
    document.getElementById('invalid').hidden = false;
    document.getElementById('steps').hidden = true;
    post('error', 9200);
    return;
  }
  post('loaded');
  Array.prototype.forEach.call(document.forms, function (form) {
    form.addEventListener('submit', function () {
      var m = form.getAttribute('data-message');
      if (m === 'success') post('success');
      if (m === 'error') post('error', parseInt(form.elements.code.value, 10));
    });
  });
})();
</script>
HTML
    return Apache2::Const::OK;
}

# Details with a REJECTED liveness capability.
sub rejected_details {
    my ($id, $wf) = @_;
    my $d = { type => 'REJECTED', details => { label => 'DIGITAL_COPY' } };
    return {
        workflow => { id => $id, status => 'PROCESSED', definitionKey => $wf->{definitionKey} },
        account => { id => $wf->{account_id} },
        decision => { type => 'REJECTED', details => { label => 'REJECT' } },
        capabilities => {
            usability => [{ decision => { type => 'PASSED', details => { label => 'OK' } } }],
            liveness  => [{ decision => $d }],
        },
    };
}

# POST Jumio's callback to the workflow's callbackUrl; returns a short result text.
sub send_callback {
    my ($wf, $id) = @_;
    my $url = $wf->{callbackUrl} or return 'none (no callbackUrl was sent)';
    my $form = join '&',
        'callbackSentAt=' . strftime('%Y-%m-%dT%H:%M:%S.000Z', gmtime),
        "workflowExecution.id=$id", "workflowExecution.status=$wf->{status}",
        "workflowExecution.definitionKey=$wf->{definitionKey}", "account.id=$wf->{account_id}";
    my $res = HTTP::Tiny->new(timeout => 10)->post($url, {
        headers => { 'Content-Type' => 'application/x-www-form-urlencoded' }, content => $form });
    return "HTTP $res->{status}";
}

sub read_form {
    my ($r) = @_;
    my $body = '';
    while ($r->read(my $buf, 8192)) {
        $body .= $buf;
        last if length $body > 65536;
    }
    return parse_query($body);
}

sub parse_query {
    my ($s) = @_;
    my %q;
    for my $pair (split /&/, $s) {
        my ($k, $v) = split /=/, $pair, 2;
        next unless defined $k;
        for ($k, $v) {
            next unless defined;
            tr/+/ /;
            s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
        }
        $q{$k} = $v // '';
    }
    return %q;
}

sub uri_escape {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf '%%%02X', ord $1/ge;
    return $s;
}

sub html {
    my ($s) = @_;
    $s //= '';
    $s =~ s/&/&amp;/g;
    $s =~ s/</&lt;/g;
    $s =~ s/>/&gt;/g;
    $s =~ s/"/&quot;/g;
    return $s;
}

1;
