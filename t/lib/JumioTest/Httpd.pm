package JumioTest::Httpd;

# An extra httpd next to the Apache::Test server: its own minimal configuration in
# <logs>/<name>/ (ServerRoot, PidFile, Listen on a free loopback port, ErrorLog, an MPM,
# mod_dbd, the built mod_jumio), started with `apache2 -f <conf> -k start` and stopped when
# the object goes (or at END).  Its Jumio endpoints point at a fake Jumio (by default the
# test server's /fake, so the fake records every call).  Used by t/background.t,
# t/faults.t, t/durability.t, t/graceful.pl and bench/run; see t/README.md.
#
#   my $h = JumioTest::Httpd->new(name => 'bg', fake => 'http://127.0.0.1:8529/fake',
#                                 background => 1, schedule => [1, 2, 3]);
#   $h->url('/jumio/intake'); $h->graceful; $h->error_log_text; $h->db_rows($sql); $h->stop;
#
# Options (all optional but name and, unless with_fake, fake):
#   name        directory name under logs (letters, digits, - and _)
#   logs        parent directory of <name>/ (default <t>/logs)
#   t_dir       the test directory t/ (default: found from this file)
#   module      mod_jumio.so (default <t>/../.libs/mod_jumio.so); no_jumio => 1: not loaded
#   fake        base URL of the fake Jumio ("http://127.0.0.1:<port>/fake")
#   with_fake   1: this server also serves the fake Jumio under /fake (mod_perl), with its
#               state in fake_dir (default <dir>/fake_jumio); fake defaults to itself
#   endpoints   { auth|account|api|retrieval|status => base URL } overriding single services
#   db          SQLite file (default <dir>/jumio.db)
#   dbd_driver, dbd_params   mod_dbd settings instead of SQLite db (e.g. mysql and its params)
#   mpm         prefork (default) or event
#   workers     MaxRequestWorkers (default 16); start_servers (default 4)
#   max_spare   prefork MaxSpareServers (default workers); threads  event ThreadsPerChild (16)
#   port        the port (default: a free one)
#   background  JumioBackgroundInterval (default 0: off);  schedule  [seconds...] or undef
#   reuse       JumioIntakeReuse at server level (default 0: off, as on the test server)
#   timeout     JumioTimeout value (default "3 1")
#   loglevel    LogLevel (default "info")
#   conf        more server-scope directives appended to the configuration
#   user/group  User/Group for the children when started as root (default www-data)
#   no_start    1: only write the configuration (start it with ->start)

use strict;
use warnings;

use Carp qw(croak);
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Spec ();
use IO::Socket::INET ();
use POSIX ();

use JumioTest ();

our $HTTPD   = '/usr/sbin/apache2';
our $MODULES = '/usr/lib/apache2/modules';

my %LIVE;    # "$obj" => $obj, stopped at END by the process that started them

# A TCP port on 127.0.0.1 that nothing listens on right now.
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
                                  Listen => 1, ReuseAddr => 1)
        or croak "free_port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# A closed port (connection refused), for "Jumio cannot be reached" faults.
sub closed_port { return free_port() }

sub new {
    my ($class, %o) = @_;
    croak 'JumioTest::Httpd: name needed ([\w-]+)' unless ($o{name} // '') =~ /\A[\w-]+\z/;
    my $t = $o{t_dir} // abs_path(File::Spec->catdir(dirname(__FILE__), File::Spec->updir,
                                                     File::Spec->updir));
    my $self = bless {
        %o,
        t_dir   => $t,
        logs    => $o{logs} // "$t/logs",
        module  => $o{module} // abs_path("$t/..") . '/.libs/mod_jumio.so',
        mpm     => $o{mpm} // 'prefork',
        workers => $o{workers} // 16,
        start_servers => $o{start_servers} // 4,
        background => $o{background} // 0,
        timeout => $o{timeout} // '3 1',
        loglevel => $o{loglevel} // 'info',
        owner   => $$,
    }, $class;
    $self->{dir}  = "$self->{logs}/$o{name}";
    $self->{port} = $o{port} // free_port();
    $self->{fake_dir} //= "$self->{dir}/fake_jumio" if $self->{with_fake};
    $self->{fake} //= "http://127.0.0.1:$self->{port}/fake" if $self->{with_fake};
    croak 'JumioTest::Httpd: fake (base URL of the fake Jumio) needed'
        unless $self->{fake} || $self->{no_jumio};
    $self->{db} //= "$self->{dir}/jumio.db";
    $self->{dbd_driver} //= 'sqlite3';
    $self->{dbd_params} //= $self->{db} if $self->{dbd_driver} eq 'sqlite3';
    remove_tree($self->{dir}) if -d $self->{dir};
    make_path("$self->{dir}/conf", "$self->{dir}/logs");
    $self->write_conf;
    $self->start unless $o{no_start};
    return $self;
}

sub name     { $_[0]{name} }
sub port     { $_[0]{port} }
sub dir      { $_[0]{dir} }
sub conf_file { "$_[0]{dir}/conf/httpd.conf" }
sub pid_file { "$_[0]{dir}/logs/httpd.pid" }
sub error_log { "$_[0]{dir}/logs/error_log" }
sub db_path  { $_[0]{dbd_driver} eq 'sqlite3' ? $_[0]{dbd_params} : undef }
sub fake_dir { $_[0]{fake_dir} }
sub base     { "http://127.0.0.1:$_[0]{port}" }

# Absolute URL of a path on this server.
sub url {
    my ($self, $path) = @_;
    $path = "/$path" unless $path =~ m{\A/};
    return $self->base . $path;
}

# The configuration text (also written to conf_file).
sub conf_text {
    my ($self) = @_;
    my $d = $self->{dir};
    my $t = $self->{t_dir};
    my $w = $self->{workers};
    my @c = (
        "# generated by t/lib/JumioTest/Httpd.pm for '$self->{name}'",
        "ServerRoot \"$d\"",
        "PidFile \"$d/logs/httpd.pid\"",
        "Listen 127.0.0.1:$self->{port}",
        'ServerName 127.0.0.1',
        "ErrorLog \"$d/logs/error_log\"",
        "LogLevel $self->{loglevel}",
        "DefaultRuntimeDir \"$d/logs\"",
        "Mutex file:$d/logs default",
        "LoadModule mpm_$self->{mpm}_module $MODULES/mod_mpm_$self->{mpm}.so",
    );
    if ($self->{mpm} eq 'prefork') {
        push @c, "StartServers $self->{start_servers}", "MinSpareServers 1",
                 'MaxSpareServers ' . ($self->{max_spare} // $w),
                 "ServerLimit $w", "MaxRequestWorkers $w", 'MaxConnectionsPerChild 0';
    }
    else {
        my $threads = $self->{threads} // 16;
        my $procs = int(($w + $threads - 1) / $threads) || 1;
        push @c, "StartServers " . ($self->{start_servers} > $procs ? $procs : $self->{start_servers}),
                 "ServerLimit $procs", "ThreadsPerChild $threads", "ThreadLimit $threads",
                 'MaxRequestWorkers ' . ($procs * $threads), 'MinSpareThreads 1',
                 'MaxSpareThreads ' . ($procs * $threads), 'MaxConnectionsPerChild 0';
    }
    if ($> == 0) {
        push @c, 'User ' . ($self->{user} // 'www-data'), 'Group ' . ($self->{group} // 'www-data');
    }
    push @c,
        "LoadModule authz_core_module $MODULES/mod_authz_core.so",
        "LoadModule authz_host_module $MODULES/mod_authz_host.so",
        "LoadModule mime_module $MODULES/mod_mime.so",
        "LoadModule dbd_module $MODULES/mod_dbd.so",
        'TypesConfig /etc/mime.types',
        "DocumentRoot \"$t/htdocs\"",
        "<Directory \"$t/htdocs\">", '    Require all granted', '</Directory>',
        'KeepAlive On', 'MaxKeepAliveRequests 0', 'KeepAliveTimeout 5',
        'Timeout 30';
    if ($self->{with_fake}) {
        push @c,
            "LoadModule perl_module $MODULES/mod_perl.so",
            "PerlSwitches -I$t/lib",
            "PerlSetEnv JUMIO_FAKE_DIR \"$self->{fake_dir}\"",
            "PerlPassEnv JUMIO_FAKE_DIR",
            'PerlModule FakeJumio',
            '<Location /fake>', '    SetHandler modperl', '    PerlResponseHandler FakeJumio',
            '</Location>';
    }
    push @c, $self->jumio_conf unless $self->{no_jumio};
    push @c, '# ---- extra directives', $self->{conf} if defined $self->{conf};
    return join("\n", @c) . "\n";
}

# The mod_jumio part: same credentials, JWT and user agent as the test server.
sub jumio_conf {
    my ($self) = @_;
    my $t = $self->{t_dir};
    my %ep = map { $_ => "$self->{fake}/$_" } qw(auth account retrieval status api);
    %ep = (%ep, %{ $self->{endpoints} || {} });
    my $params = $self->{dbd_params};
    $params =~ s/(["\\])/\\$1/g;
    my @c = (
        "LoadModule jumio_module $self->{module}",
        "DBDriver $self->{dbd_driver}",
        "DBDParams \"$params\"",
        (map { "JumioEndpoint $_ $ep{$_}" } sort keys %ep),
        'JumioAuth oauth2',
        'JumioClientId test-client',
        "JumioClientSecret file:$t/conf/client_secret.txt",
        "JumioUserAgent \"$JumioTest::USER_AGENT\"",
        "JumioTimeout $self->{timeout}",
        'JumioJWTAlgorithm HS256',
        "JumioJWTKey $JumioTest::JWT_SECRET",
        'JumioCallbackSigning on',
        "JumioBackgroundInterval $self->{background}",
        'JumioIntakeReuse ' . ($self->{reuse} ? 'on' : 'off'),
    );
    push @c, 'JumioRetrievalSchedule ' . join(' ', @{ $self->{schedule} }) if $self->{schedule};
    push @c,
        '<Location /jumio/intake>', '    SetHandler jumio-intake', '    JumioWorkflowKey 3',
        "    JumioCallbackURL http://127.0.0.1:$self->{port}/jumio/callback", '</Location>',
        '<Location /jumio/callback>', '    SetHandler jumio-callback', '</Location>',
        '<Location /jumio/poll>', '    SetHandler jumio-poll', '</Location>';
    return @c;
}

sub write_conf {
    my ($self) = @_;
    open(my $fh, '>', $self->conf_file) or croak "write $self->{dir}: $!";
    print {$fh} $self->conf_text;
    close $fh or croak "write $self->{dir}: $!";
    if ($> == 0) {
        # as root the children run as User: they need the logs, database and fake state
        my ($uid, $gid) = (getpwnam($self->{user} // 'www-data'))[2, 3];
        system('chown', '-R', "$uid:$gid", $self->{dir}) if defined $uid;
    }
}

# Parent pid (from the pid file), or undef when not running.
sub pid {
    my ($self) = @_;
    open(my $fh, '<', $self->pid_file) or return undef;
    my $pid = <$fh>;
    close $fh;
    return undef unless defined $pid && $pid =~ /\A\s*(\d+)/;
    $pid = $1;
    return kill(0, $pid) ? $pid : undef;
}

# Pids of the parent's children (from /proc).
sub child_pids {
    my ($self) = @_;
    my $ppid = $self->{started_pid} // $self->pid or return ();
    my @kids;
    opendir(my $dh, '/proc') or return ();
    for my $p (grep { /\A\d+\z/ } readdir $dh) {
        open(my $fh, '<', "/proc/$p/stat") or next;
        my $stat = <$fh> // '';
        close $fh;
        push @kids, $p + 0 if $stat =~ /\A\d+ \(.*\) \S (\d+) / && $1 == $ppid;
    }
    closedir $dh;
    return sort { $a <=> $b } @kids;
}

# 1 when a TCP connection to the port succeeds.
sub answers {
    my ($self) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port},
                                  Proto => 'tcp', Timeout => 1);
    return 0 unless $s;
    close $s;
    return 1;
}

# JumioTest::wait_until, checking every 0.05 s.
sub _wait_for { my ($secs, $cond) = @_; return JumioTest::wait_until($secs, $cond, 0.05) }

sub _httpd {
    my ($self, $verb) = @_;
    my $out = `$HTTPD -f '@{[ $self->conf_file ]}' -k $verb 2>&1`;
    return ($? >> 8, $out);
}

# Start; dies (with the error log's tail) when the server does not come up in 30 s.
sub start {
    my ($self) = @_;
    my ($rc, $out) = $self->_httpd('start');
    my $up = $rc == 0 && _wait_for(30, sub { $self->pid && $self->answers });
    if (!$up) {
        my $tail = $self->error_log_tail(30);
        croak "extra httpd '$self->{name}' did not start (exit $rc): $out\n$tail";
    }
    $self->{started_pid} = $self->pid;
    $LIVE{"$self"} = $self;
    # the port answers as soon as the parent listens; wait for a child too
    _wait_for(10, sub { my @k = $self->child_pids; scalar @k });
    return $self;
}

# Graceful restart (apachectl graceful); waits until the new generation is up (30 s).
sub graceful {
    my ($self) = @_;
    my $before = $self->generations;
    my ($rc, $out) = $self->_httpd('graceful');
    croak "graceful of '$self->{name}' failed (exit $rc): $out" if $rc;
    _wait_for(30, sub { $self->generations > $before && $self->answers })
        or croak "extra httpd '$self->{name}' did not come back after graceful\n"
                 . $self->error_log_tail(30);
    return $self;
}

# How many times the server said "resuming normal operations" (start + restarts).
sub generations {
    my ($self) = @_;
    my $n = () = $self->error_log_text =~ /resuming normal operations/g;
    return $n;
}

# Stop (apachectl stop) and wait until the parent is gone (SIGKILL after 20 s).
sub stop {
    my ($self) = @_;
    my $pid = $self->{started_pid} // $self->pid;
    delete $LIVE{"$self"};
    return 1 unless $pid && kill(0, $pid);
    my @kids = $self->child_pids;
    $self->_httpd('stop');
    unless (_wait_for(20, sub { !kill(0, $pid) || _zombie($pid) })) {
        kill 'KILL', $pid;
        kill 'KILL', grep { kill 0, $_ } @kids;
    }
    _wait_for(10, sub { !grep { kill(0, $_) && !_zombie($_) } @kids });
    delete $self->{started_pid};
    return 1;
}

# Kill the parent and its children with SIGKILL (a crash or power cut of the node), wait
# until they are gone; ->start brings the server back on the same configuration and data.
sub kill_hard {
    my ($self) = @_;
    my $pid = $self->{started_pid} // $self->pid;
    delete $LIVE{"$self"};
    return 1 unless $pid;
    my @all = ($pid, $self->child_pids);
    kill 'KILL', @all;
    _wait_for(10, sub { !grep { kill(0, $_) && !_zombie($_) } @all });
    unlink $self->pid_file;
    delete $self->{started_pid};
    return 1;
}

sub _zombie {
    my ($pid) = @_;
    open(my $fh, '<', "/proc/$pid/stat") or return 1;
    my $stat = <$fh> // '';
    close $fh;
    return $stat =~ /\A\d+ \(.*\) Z /;
}

sub error_log_text {
    my ($self) = @_;
    open(my $fh, '<', $self->error_log) or return '';
    local $/;
    my $text = <$fh>;
    close $fh;
    return $text // '';
}

sub error_log_tail {
    my ($self, $n) = @_;
    my @l = split /\n/, $self->error_log_text;
    @l = @l[-$n .. -1] if @l > $n;
    return join("\n", @l) . "\n";
}

# Lines of the error log that show a child crash (signal, segfault, abort, ASan report).
sub crashes {
    my ($self) = @_;
    return grep { /exit signal|Segmentation fault|segfault|Aborted|AddressSanitizer|child pid \d+ exit signal|AH00052/ }
        split /\n/, $self->error_log_text;
}

# A DBI handle on this server's database (SQLite file, or MySQL/MariaDB from dbd_params).
sub dbh { JumioTest::db_connect($_[0]{dbd_driver}, $_[0]{dbd_params}) }

# Rows (hashrefs) of $sql on this server's database; an absent table or database gives none.
sub db_rows {
    my ($self, $sql, @bind) = @_;
    my @rows = JumioTest::select_rows({ driver => $self->{dbd_driver}, params => $self->{dbd_params},
                                        absent_ok => 1 }, $sql, @bind);
    return wantarray ? @rows : \@rows;
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $@, $!);
    $self->stop if $self->{owner} == $$ && $self->{started_pid};
}

END {
    local $?;
    for my $h (values %LIVE) {
        $h->stop if $h->{owner} == $$;
    }
}

1;
