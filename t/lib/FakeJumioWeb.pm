package FakeJumioWeb;
# The fake Jumio's web journey, for scripts/demo: the `link` of an intake opens this page
# (JUMIO_FAKE_WEB_BASE) in the portal's iframe; its buttons end the journey the way Jumio
# would: the workflow's status changes and Jumio's callback (form-urlencoded, dotted keys) is
# POSTed to the callbackUrl the module sent.
use strict;
use warnings;

use Apache2::RequestRec ();
use Apache2::RequestIO ();
use Apache2::ServerUtil ();
use Apache2::Const -compile => qw(OK NOT_FOUND HTTP_METHOD_NOT_ALLOWED);
use HTTP::Tiny ();
use POSIX qw(strftime);
use FakeJumio::State ();

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
    my %status = (passed => 'PROCESSED', rejected => 'PROCESSED', expired => 'SESSION_EXPIRED');
    return Apache2::Const::NOT_FOUND unless $status{$outcome};
    $wf->{status} = $status{$outcome};
    $wf->{details} = rejected_details($id, $wf) if $outcome eq 'rejected';
    $state->save_workflow($id, $wf);
    my $sent = send_callback($wf, $id);
    $r->content_type('text/html; charset=utf-8');
    $r->print("<!doctype html><meta charset=utf-8><body style='font-family:sans-serif'>"
              . "<h2>Journey ended: $wf->{status}</h2><p>Callback to the module: $sent</p>");
    return Apache2::Const::OK;
}

# The journey page with one button per outcome.
sub page {
    my ($r, $id, $wf) = @_;
    $r->content_type('text/html; charset=utf-8');
    $r->print(<<"HTML");
<!doctype html><meta charset=utf-8><title>Fake Jumio journey</title>
<body style="font-family:sans-serif;background:#f4f6fb;padding:1em">
<h2>Fake Jumio web journey</h2>
<p>Workflow <code>$id</code> (definition key $wf->{definitionKey}), status $wf->{status}.</p>
<p>The real web client would capture an ID and a selfie here. End the journey:</p>
<form method=post action="/fake/web/$id/passed"><button>Finish: every check PASSED</button></form><br>
<form method=post action="/fake/web/$id/rejected"><button>Finish: liveness REJECTED</button></form><br>
<form method=post action="/fake/web/$id/expired"><button>Walk away: SESSION_EXPIRED</button></form>
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

1;
