package FakeJumio::State;

# Files of the fake Jumio, shared by the mod_perl handler (FakeJumio.pm, one copy per
# httpd child) and the test helpers (JumioTest.pm, in the test process).  Pure Perl: no
# Apache2::* modules, so it loads outside httpd too.
#
# Also the small helpers both sides use: random_bytes, b64url, uuid_v4 (importable).
#
# Layout of the state directory:
#   .lock                  flock'ed around every read-modify-write
#   seq                    last request sequence number
#   requests.jsonl         one JSON object per request
#   control.json           fault injection rules {endpoint => [rule, ...]}
#   workflows/<id>.json    {account_id, status, definitionKey, details, ...}
#   accounts/<id>.json     {id, workflows => [...], credentials => [...]}
#   tokens/<token>         expiry (Unix seconds) of an access token issued by the fake

use strict;
use warnings;

use Exporter 'import';
use Fcntl qw(:flock O_RDONLY O_WRONLY O_CREAT O_APPEND);
use File::Path qw(make_path remove_tree);
use JSON::PP ();
use MIME::Base64 qw(encode_base64);

our @EXPORT_OK = qw(random_bytes b64url uuid_v4);

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

# The state directory: $ENV{JUMIO_FAKE_DIR}, else <serverroot>/logs/fake_jumio.
sub default_dir {
    my ($serverroot) = @_;
    return $ENV{JUMIO_FAKE_DIR} if defined $ENV{JUMIO_FAKE_DIR} && length $ENV{JUMIO_FAKE_DIR};
    return "$serverroot/logs/fake_jumio";
}

sub new {
    my ($class, $dir) = @_;
    my $self = bless { dir => $dir }, $class;
    $self->ensure_dirs;
    return $self;
}

sub dir  { $_[0]{dir} }
sub json { $JSON }

sub ensure_dirs {
    my ($self) = @_;
    for my $d ($self->{dir}, map { "$self->{dir}/$_" } qw(workflows accounts tokens)) {
        next if -d $d;
        make_path($d);    # several children may race: check the result, not the call
        die "FakeJumio: cannot create $d: $!\n" unless -d $d;
    }
}

# Run $code while holding the state lock (LOCK_EX or LOCK_SH); returns what $code returns.
sub locked {
    my ($self, $mode, $code) = @_;
    my $file = "$self->{dir}/.lock";
    open(my $fh, '>>', $file) or die "FakeJumio: cannot open $file: $!\n";
    flock($fh, $mode) or die "FakeJumio: cannot lock $file: $!\n";
    my @ret = wantarray ? eval { $code->() } : (scalar eval { $code->() });
    my $err = $@;
    flock($fh, LOCK_UN);
    close $fh;
    die $err if $err;
    return wantarray ? @ret : $ret[0];
}

# ---- plain file helpers (callers hold the lock) ----

sub read_file {
    my ($self, $path) = @_;
    open(my $fh, '<:raw', $path) or return undef;
    local $/;
    my $text = <$fh>;
    close $fh;
    return defined $text ? $text : '';
}

# Write via a temp file and rename, so a reader never sees half a file.
sub write_file_atomic {
    my ($self, $path, $text) = @_;
    my $tmp = "$path.tmp.$$";
    open(my $fh, '>:raw', $tmp) or die "FakeJumio: cannot write $tmp: $!\n";
    print {$fh} $text or die "FakeJumio: cannot write $tmp: $!\n";
    close $fh or die "FakeJumio: cannot close $tmp: $!\n";
    rename($tmp, $path) or die "FakeJumio: cannot rename $tmp: $!\n";
}

sub read_json {
    my ($self, $path) = @_;
    my $text = $self->read_file($path);
    return undef unless defined $text && length $text;
    return $JSON->decode($text);
}

sub write_json {
    my ($self, $path, $data) = @_;
    $self->write_file_atomic($path, $JSON->encode($data));
}

# ---- ids ----

sub safe_id {
    my ($id) = @_;
    return defined $id && $id =~ /\A[A-Za-z0-9_-]{1,200}\z/;
}

sub random_bytes {
    my ($n) = @_;
    open(my $fh, '<:raw', '/dev/urandom') or die "FakeJumio: /dev/urandom: $!\n";
    my $got = read($fh, my $buf, $n);
    close $fh;
    die "FakeJumio: short read from /dev/urandom\n" unless $got && $got == $n;
    return $buf;
}

# base64url without padding (RFC 7515), as in JWTs and tokens.
sub b64url {
    my ($s) = @_;
    my $b = encode_base64($s, '');
    $b =~ tr{+/}{-_};
    $b =~ s/=+\z//;
    return $b;
}

# A random (version 4) UUID in lower case.
sub uuid_v4 {
    my @b = unpack 'C16', random_bytes(16);
    $b[6] = ($b[6] & 0x0f) | 0x40;
    $b[8] = ($b[8] & 0x3f) | 0x80;
    my $h = unpack 'H*', pack 'C16', @b;
    return join '-', substr($h, 0, 8), substr($h, 8, 4), substr($h, 12, 4), substr($h, 16, 4),
        substr($h, 20, 12);
}

# ---- requests ----

sub next_seq {
    my ($self) = @_;
    my $file = "$self->{dir}/seq";
    my $seq = $self->read_file($file);
    $seq = (defined $seq && $seq =~ /(\d+)/) ? $1 + 1 : 1;
    $self->write_file_atomic($file, "$seq\n");
    return $seq;
}

sub append_request {
    my ($self, $rec) = @_;
    $rec->{seq} = $self->next_seq;
    my $line = $JSON->encode($rec) . "\n";
    my $file = "$self->{dir}/requests.jsonl";
    sysopen(my $fh, $file, O_WRONLY | O_APPEND | O_CREAT, 0644)
        or die "FakeJumio: cannot open $file: $!\n";
    binmode $fh;
    syswrite($fh, $line) == length($line) or die "FakeJumio: short write to $file: $!\n";
    close $fh;
    return $rec->{seq};
}

sub requests {
    my ($self) = @_;
    my $text = $self->read_file("$self->{dir}/requests.jsonl");
    return () unless defined $text;
    my @out;
    for my $line (split /\n/, $text) {
        next unless length $line;
        my $rec = eval { $JSON->decode($line) };
        push @out, $rec if $rec;
    }
    return @out;
}

# ---- control (fault injection) ----

sub control {
    my ($self) = @_;
    return $self->read_json("$self->{dir}/control.json") || {};
}

sub set_control {
    my ($self, $control) = @_;
    $self->write_json("$self->{dir}/control.json", $control);
}

# The rule that applies to this request of $endpoint, or undef.  A rule with `times`
# is consumed: its count goes down and it is removed when it reaches 0.
sub take_rule {
    my ($self, $endpoint) = @_;
    my $control = $self->control;
    my $rules = $control->{$endpoint};
    return undef unless ref $rules eq 'ARRAY' && @$rules;
    my $rule = $rules->[0];
    return undef unless ref $rule eq 'HASH';
    my %copy = %$rule;
    if (defined $rule->{times}) {
        $rule->{times}--;
        shift @$rules if $rule->{times} <= 0;
        delete $control->{$endpoint} unless @$rules;
        $self->set_control($control);
    }
    return \%copy;
}

# ---- workflows and accounts ----

sub workflow_path { "$_[0]{dir}/workflows/$_[1].json" }
sub account_path  { "$_[0]{dir}/accounts/$_[1].json" }

sub workflow {
    my ($self, $id) = @_;
    return undef unless safe_id($id);
    return $self->read_json($self->workflow_path($id));
}

sub save_workflow {
    my ($self, $id, $wf) = @_;
    die "FakeJumio: bad workflow id\n" unless safe_id($id);
    $self->write_json($self->workflow_path($id), $wf);
}

sub delete_workflow {
    my ($self, $id) = @_;
    return unless safe_id($id);
    unlink $self->workflow_path($id);
}

sub workflow_ids {
    my ($self) = @_;
    opendir(my $dh, "$self->{dir}/workflows") or return ();
    my @ids = map { /\A(.+)\.json\z/ ? $1 : () } readdir $dh;
    closedir $dh;
    return sort @ids;
}

sub account {
    my ($self, $id) = @_;
    return undef unless safe_id($id);
    return $self->read_json($self->account_path($id));
}

sub save_account {
    my ($self, $id, $acc) = @_;
    die "FakeJumio: bad account id\n" unless safe_id($id);
    $self->write_json($self->account_path($id), $acc);
}

sub delete_account {
    my ($self, $id) = @_;
    return unless safe_id($id);
    unlink $self->account_path($id);
}

# ---- access tokens ----

sub issue_token {
    my ($self, $token, $expires_at) = @_;
    $self->write_file_atomic("$self->{dir}/tokens/$token", "$expires_at\n");
}

# 1 when $token was issued by the fake and has not expired or been revoked.
sub token_valid {
    my ($self, $token) = @_;
    return 0 unless safe_id($token);
    my $exp = $self->read_file("$self->{dir}/tokens/$token");
    return 0 unless defined $exp && $exp =~ /(\d+)/;
    return $1 > time ? 1 : 0;
}

# Revokes the given tokens, or every token when none is given.
sub revoke_tokens {
    my ($self, @tokens) = @_;
    if (@tokens) {
        unlink map { "$self->{dir}/tokens/$_" } grep { safe_id($_) } @tokens;
        return;
    }
    remove_tree("$self->{dir}/tokens", { keep_root => 1 });
}

# ---- reset ----

# Empties requests, workflows and control.  Accounts and access tokens survive (the
# module's database and token cache outlive a test file); all => 1 clears them too.
sub reset {
    my ($self, %opts) = @_;
    unlink "$self->{dir}/requests.jsonl", "$self->{dir}/control.json", "$self->{dir}/seq";
    remove_tree("$self->{dir}/workflows", { keep_root => 1 });
    if ($opts{all}) {
        remove_tree("$self->{dir}/accounts", { keep_root => 1 });
        $self->revoke_tokens;
    }
    $self->ensure_dirs;
}

1;
