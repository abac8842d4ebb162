package FakeReceiver;

# A portal's webhook receiver for the tests of signed result notifications (t/notify.t): a
# mod_perl 2 response handler at /hooks/<box> (test server, t/conf/extra.conf.in, or an
# extra httpd that mounts it: FakeReceiver::conf_lines) that records every delivery of box
# <box> and answers as the box's rules say.  The test process reads the deliveries and sets
# the rules with the plain functions below (no mod_perl needed there).
#
# State in $ENV{JUMIO_RECEIVER_DIR}, else <serverroot>/logs/receiver (flock'ed files):
#   <box>.jsonl    one JSON object per delivery: {time, method, path, headers (lower-case
#                  names), body (raw text), answer_status}; recorded before any delay
#   <box>.rules    JSON array of rules {status, delay, times}: the first applies to the next
#                  delivery and is consumed when times reaches 0 (absent times: forever);
#                  status defaults to 200; delay (seconds) holds the answer back (a receiver
#                  that hangs: the sender's timeout ends it).  No rules: 200.

use strict;
use warnings;

use Fcntl qw(:flock);
use File::Path ();
use JSON::PP ();
use Digest::SHA ();
use MIME::Base64 qw(decode_base64);
use Time::HiRes ();

my $JSON = JSON::PP->new->utf8->canonical;

# The state directory for a server root.
sub dir {
    my ($serverroot) = @_;
    my $d = defined $ENV{JUMIO_RECEIVER_DIR} && length $ENV{JUMIO_RECEIVER_DIR}
          ? $ENV{JUMIO_RECEIVER_DIR} : "$serverroot/logs/receiver";
    File::Path::make_path($d) unless -d $d;
    return $d;
}

# Run $code under the state lock.
sub _locked {
    my ($dir, $code) = @_;
    open(my $fh, '>>', "$dir/.lock") or die "FakeReceiver: $dir/.lock: $!\n";
    flock($fh, LOCK_EX) or die "FakeReceiver: lock: $!\n";
    my @r = eval { $code->() };
    my $err = $@;
    flock($fh, LOCK_UN);
    close $fh;
    die $err if $err;
    return wantarray ? @r : $r[0];
}

sub _read {
    my ($path) = @_;
    open(my $fh, '<:raw', $path) or return undef;
    local $/;
    my $t = <$fh>;
    close $fh;
    return $t;
}

sub _write {
    my ($path, $text) = @_;
    open(my $fh, '>:raw', "$path.tmp") or die "FakeReceiver: $path: $!\n";
    print {$fh} $text;
    close $fh;
    rename "$path.tmp", $path or die "FakeReceiver: $path: $!\n";
}

sub _box_ok { defined $_[0] && $_[0] =~ /\A[\w-]{1,64}\z/ }

# Set (replace) the rules of a box; no rules: answer 200.
sub set_rules {
    my ($dir, $box, @rules) = @_;
    die "FakeReceiver: bad box\n" unless _box_ok($box);
    _locked($dir, sub { _write("$dir/$box.rules", $JSON->encode(\@rules)) });
}

# The deliveries of a box, oldest first.
sub deliveries {
    my ($dir, $box) = @_;
    my $text = _locked($dir, sub { _read("$dir/$box.jsonl") }) // '';
    return map { $JSON->decode($_) } grep { length } split /\n/, $text;
}

# Forget a box's deliveries and rules.
sub reset_box {
    my ($dir, $box) = @_;
    _locked($dir, sub { unlink "$dir/$box.jsonl", "$dir/$box.rules" });
}

# The HMAC key of a secret as Standard Webhooks define it: whsec_<base64> is the decoded
# bytes, anything else the secret's own bytes.
sub key_of {
    my ($secret) = @_;
    return $secret =~ /\Awhsec_(.*)\z/s ? decode_base64($1) : $secret;
}

# The v1 signatures a delivery carries (base64 texts).
sub signatures {
    my ($d) = @_;
    my $h = $d->{headers}{'webhook-signature'} // '';
    return map { /\Av1,(.+)\z/ ? $1 : () } split / /, $h;
}

# The signature of a delivery made with a secret: base64 HMAC-SHA256 of "id.timestamp.body".
sub expected_signature {
    my ($d, $secret) = @_;
    my $content = join '.', $d->{headers}{'webhook-id'} // '', $d->{headers}{'webhook-timestamp'} // '',
                            $d->{body} // '';
    my $sig = Digest::SHA::hmac_sha256_base64($content, key_of($secret));
    $sig .= '=' while length($sig) % 4;
    return $sig;
}

# 1 when a delivery carries a valid v1 signature made with $secret (as a receiver checks).
sub verify {
    my ($d, $secret) = @_;
    my $want = expected_signature($d, $secret);
    return (grep { $_ eq $want } signatures($d)) ? 1 : 0;
}

# Configuration lines that mount the receiver at /hooks in an httpd with mod_perl loaded.
sub conf_lines {
    my ($dir) = @_;
    return ("PerlSetEnv JUMIO_RECEIVER_DIR \"$dir\"", 'PerlModule FakeReceiver',
            '<Location /hooks>', '    SetHandler modperl', '    PerlResponseHandler FakeReceiver',
            '</Location>');
}

# The mod_perl response handler.
sub handler {
    my ($r) = @_;
    require Apache2::RequestRec;
    require Apache2::RequestIO;
    require Apache2::ServerUtil;
    require APR::Table;
    my $dir = dir(Apache2::ServerUtil::server_root());
    my ($box) = $r->uri =~ m{\A/hooks/([\w-]{1,64})\z};
    my %headers;
    $r->headers_in->do(sub { my ($k, $v) = @_; my $lk = lc $k;
                             $headers{$lk} = exists $headers{$lk} ? "$headers{$lk}, $v" : $v; 1 });
    my $body = '';
    while (1) {
        my $n = $r->read(my $buf, 65536);
        last unless $n;
        $body .= $buf;
    }
    $box //= '_unknown';
    my $rule = _locked($dir, sub {
        my $rules = eval { $JSON->decode(_read("$dir/$box.rules") // '[]') } || [];
        my $rule = $rules->[0] || {};
        if (@$rules && defined $rules->[0]{times} && --$rules->[0]{times} <= 0) {
            shift @$rules;
        }
        _write("$dir/$box.rules", $JSON->encode($rules)) if -e "$dir/$box.rules";
        my $status = $rule->{status} // 200;
        open(my $fh, '>>:raw', "$dir/$box.jsonl") or die "FakeReceiver: $box: $!\n";
        print {$fh} $JSON->encode({ time => Time::HiRes::time(), method => $r->method, path => $r->uri,
                                    headers => \%headers, body => $body, answer_status => $status }), "\n";
        close $fh;
        return $rule;
    });
    Time::HiRes::sleep($rule->{delay}) if $rule->{delay};
    $r->status($rule->{status} // 200);
    $r->content_type('application/json');
    $r->print('{"ok":' . (($rule->{status} // 200) < 300 ? 'true' : 'false') . '}')
        unless ($rule->{status} // 200) == 204;
    return 0;    # Apache2::Const::OK
}

1;
