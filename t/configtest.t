# Configuration checks as an operator meets them: `apache2 -t` (apachectl configtest) refuses a
# bad value with a message naming the directive and never echoes a secret; the shipped
# conf/jumio.load + conf/jumio.conf pass.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use File::Temp ();
use File::Spec ();
use Cwd ();

my $T = Cwd::abs_path(Apache::Test::vars('t_dir'));
my $MODULE = "$T/../.libs/mod_jumio.so";
my $MODULES = '/usr/lib/apache2/modules';
my $DIR = File::Temp::tempdir(CLEANUP => 1);

# Write a file.
sub spew { my ($path, $text) = @_; open my $fh, '>', $path or die "$path: $!"; print {$fh} $text; close $fh }

# `apache2 -t` of a configuration made of the base lines plus $extra; returns (exit, output).
sub configtest {
    my ($extra) = @_;
    my $conf = "$DIR/httpd.conf";
    spew($conf, <<"EOF" . $extra . "\n");
ServerRoot $DIR
ServerName 127.0.0.1
Listen 127.0.0.1:1
PidFile $DIR/httpd.pid
ErrorLog $DIR/error_log
LoadModule mpm_prefork_module $MODULES/mod_mpm_prefork.so
LoadModule authz_core_module $MODULES/mod_authz_core.so
LoadModule authz_host_module $MODULES/mod_authz_host.so
LoadModule authz_user_module $MODULES/mod_authz_user.so
LoadModule authn_core_module $MODULES/mod_authn_core.so
LoadModule authn_file_module $MODULES/mod_authn_file.so
LoadModule auth_basic_module $MODULES/mod_auth_basic.so
LoadModule dbd_module $MODULES/mod_dbd.so
LoadModule jumio_module $MODULE
EOF
    my $out = `/usr/sbin/apache2 -t -f $conf 2>&1`;
    return ($? >> 8, $out);
}

my $SECRET = 'do-not-echo-this-secret-7f3a';
my @bad = (
    [ 'JumioDatacenter XX',                    'JumioDatacenter' ],
    [ 'JumioEndpoint nowhere http://x',        'JumioEndpoint' ],
    [ 'JumioEndpoint account ftp://x',         'JumioEndpoint' ],
    [ 'JumioAuth digest',                      'JumioAuth' ],
    [ 'JumioTimeout 0',                        'JumioTimeout' ],
    [ 'JumioTimeout 5 9',                      'JumioTimeout' ],
    [ 'JumioJWTAlgorithm none',                'JumioJWTAlgorithm' ],
    [ 'JumioJWTAlgorithm HS257',               'JumioJWTAlgorithm' ],
    [ 'JumioJWTLeeway -1',                     'JumioJWTLeeway' ],
    [ 'JumioClientSecret env:JUMIO_NOT_SET_ANYWHERE', 'JumioClientSecret' ],
    [ "JumioClientSecret file:$DIR/missing",   'JumioClientSecret' ],
    [ 'JumioRetrievalSchedule 40 30',          'JumioRetrievalSchedule' ],
    [ 'JumioBackgroundInterval -5',            'JumioBackgroundInterval' ],
    [ 'JumioDBTimeout 0',                      'JumioDBTimeout' ],
    [ 'JumioDBTimeout 61',                     'JumioDBTimeout' ],
    [ "<Location /x>\nJumioWorkflowKey 0\n</Location>",      'JumioWorkflowKey' ],
    [ "<Location /x>\nJumioWorkflowKey abc\n</Location>",    'JumioWorkflowKey' ],
    [ "<Location /x>\nJumioIdTypes SELFIE\n</Location>",     'JumioIdTypes' ],
    [ "<Location /x>\nJumioIdCountries us\n</Location>",     'JumioIdCountries' ],
    [ "<Location /x>\nJumioFacemapTypes FOO\n</Location>",   'JumioFacemapTypes' ],
    [ "<Location /x>\nJumioLocale xx-YY\n</Location>",       'JumioLocale' ],
    [ "<Location /x>\nJumioSuccessURL javascript:alert(1)\n</Location>", 'JumioSuccessURL' ],
    [ "<Location /x>\nJumioTokenLifetime 1m\n</Location>",   'JumioTokenLifetime' ],
    [ "<Location /x>\nJumioTokenLifetime 61d\n</Location>",  'JumioTokenLifetime' ],
    [ "<Location /x>\nJumioCallbackURL /relative\n</Location>", 'JumioCallbackURL' ],
    # a callback URL or allowed prefix of a shape a body callbackUrl may not have (t/callback_url.t)
    [ "<Location /x>\nJumioCallbackURL https://a.example/cb#frag\n</Location>",         'JumioCallbackURL' ],
    [ "<Location /x>\nJumioCallbackURL https://a.example/x/../cb\n</Location>",         'JumioCallbackURL' ],
    [ "<Location /x>\nJumioCallbackURL https://a.example/cb?jumio_token=1\n</Location>", 'JumioCallbackURL' ],
    [ "<Location /x>\nJumioCallbackURLAllow https://a.example/cb#\n</Location>",         'JumioCallbackURLAllow' ],
    [ "<Location /x>\nJumioCallbackURLAllow https://u:pw\@a.example/cb\n</Location>",    'JumioCallbackURLAllow' ],
    [ "<Location /x>\nJumioCallbackURLAllow https://a.example/cb/%2e%2e/x\n</Location>", 'JumioCallbackURLAllow' ],
    [ "<Location /x>\nJumioCallbackURLAllow https://a.example/cb\\x\n</Location>",      'JumioCallbackURLAllow' ],
    [ "<Location /x>\nJumioCallbackURLAllow https://a.example/caf\xc3\xa9\n</Location>", 'JumioCallbackURLAllow' ],
    [ "<Location /x>\nJumioCallbackURLAllow https://a.example/cb?x=\n</Location>",       'JumioCallbackURLAllow' ],
    # JumioAllowedOrigin: an origin only (t/cross_site.t)
    [ "<Location /x>\nJumioAllowedOrigin https://a.example/\n</Location>",      'JumioAllowedOrigin' ],
    [ "<Location /x>\nJumioAllowedOrigin https://a.example/portal\n</Location>", 'JumioAllowedOrigin' ],
    [ "<Location /x>\nJumioAllowedOrigin a.example\n</Location>",               'JumioAllowedOrigin' ],
    [ "<Location /x>\nJumioAllowedOrigin ftp://a.example\n</Location>",         'JumioAllowedOrigin' ],
    [ "<Location /x>\nJumioAllowedOrigin https://u\@a.example\n</Location>",    'JumioAllowedOrigin' ],
    [ "<Location /x>\nJumioAllowedOrigin https://a.example:0\n</Location>",     'JumioAllowedOrigin' ],
    [ "<Location /x>\nJumioAllowedOrigin https://a.example:65536\n</Location>", 'JumioAllowedOrigin' ],
    [ "<Location /x>\nJumioAllowedOrigin https://a.example?x\n</Location>",     'JumioAllowedOrigin' ],
    [ "<Location /x>\nJumioAllowedOrigin *\n</Location>",                       'JumioAllowedOrigin' ],
    [ "<Location /x>\nJumioAllowedOrigin null\n</Location>",                    'JumioAllowedOrigin' ],
    [ "<Location /x>\nJumioAllowedOrigin https://\n</Location>",                'JumioAllowedOrigin' ],
    [ "<Location /x>\nJumioUserSource cookie\n</Location>",  'JumioUserSource' ],
    [ "<Location /x>\nJumioUserReference md5\n</Location>",  'JumioUserReference' ],
    [ "<Location /x>\nJumioPollData some\n</Location>",      'JumioPollData' ],
    [ "<Location /x>\nJumioMaxBody 0\n</Location>",          'JumioMaxBody' ],
    [ "<Location /x>\nJumioIntakeLimit 0 1d\n</Location>",    'JumioIntakeLimit' ],
    [ "<Location /x>\nJumioIntakeLimit 5 1y\n</Location>",    'JumioIntakeLimit' ],
    [ "<Location /x>\nJumioIntakeLimit 5 367d\n</Location>",  'JumioIntakeLimit' ],
    [ "<Location /x>\nJumioIntakeLimit 5\n</Location>",       'JumioIntakeLimit' ],
    [ "<Location /x>\nJumioIntakeReuse maybe\n</Location>",   'JumioIntakeReuse' ],
    [ "<Location /x>\nJumioRetention 0\n</Location>",        'JumioRetention' ],
    # cross-directive checks (check_config hook)
    [ 'JumioJWTKey abcdefghijklmnopqrstuvwxyz',          'JumioJWTKey' ],
    [ "JumioJWTAlgorithm HS256\nJumioJWTKey short",      'JumioJWTKey' ],
    [ "JumioJWTAlgorithm RS256\nJumioJWTKey $SECRET-but-not-a-pem", 'JumioJWTKey' ],
    [ "JumioClientId only-the-id",                       'JumioClientId' ],
    # signed result notifications (t/notify.t)
    [ 'JumioNotifyURL ftp://portal.example/hooks',                       'JumioNotifyURL' ],
    [ "JumioNotifyURL http://portal.example/hooks\nJumioNotifySecret $SECRET", 'JumioNotifyURL' ],
    [ "JumioNotifyURL https://u:pw\@portal.example/hooks",               'JumioNotifyURL' ],
    [ 'JumioNotifyURL https://portal.example/hooks#x',                   'JumioNotifyURL' ],
    [ 'JumioNotifyURL https://portal.example/hooks',                     'JumioNotifyURL' ],
    [ 'JumioNotifySecret whsec_not*base64!',                             'JumioNotifySecret' ],
    [ 'JumioNotifySecret whsec_c2hvcnQ=',                                'JumioNotifySecret' ],
    [ 'JumioNotifySecret short',                                         'JumioNotifySecret' ],
    [ "JumioNotifySecret $SECRET $SECRET $SECRET",                       'JumioNotifySecret' ],
    [ 'JumioNotifySecret env:JUMIO_NOT_SET_ANYWHERE',                    'JumioNotifySecret' ],
    [ 'JumioNotifyData some',                                            'JumioNotifyData' ],
    [ 'JumioNotifyRetry 10 0',                                           'JumioNotifyRetry' ],
);

plan tests => 2 * @bad + 9;

{
    spew("$DIR/notify_secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n");
    my ($rc, $out) = configtest("DBDriver sqlite3\nDBDParams $DIR/db\nJumioNotifyURL https://portal.example/hooks/jumio\n"
                                . "JumioNotifySecret file:$DIR/notify_secret $SECRET\nJumioNotifyData full\n"
                                . "JumioNotifyRetry 5 30 600");
    is($rc, 0, 'JumioNotify*: accepted (https, a whsec_ file and a literal secret)') or diag($out);
    ($rc, $out) = configtest("DBDriver sqlite3\nDBDParams $DIR/db\nJumioNotifyURL http://127.0.0.1:8080/hooks\n"
                             . "JumioNotifySecret $SECRET whsec_$SECRET");
    unlike($out, qr/\Q$SECRET\E/, 'JumioNotifySecret: a refused secret is not echoed');
}

for my $case (@bad) {
    my ($line, $directive) = @$case;
    my ($rc, $out) = configtest("DBDriver sqlite3\nDBDParams $DIR/db\n$line");
    (my $name = $line) =~ s/\n/; /g;
    isnt($rc, 0, "refused: $name");
    like($out, qr/\Q$directive\E/, "message names $directive") or diag($out);
}

{
    my ($rc, $out) = configtest("DBDriver sqlite3\nDBDParams $DIR/db\n<Location /x>\nJumioAllowedOrigin"
                                . " https://a.example HTTP://Portal.Example:8443 http://[::1]:8080\n</Location>");
    is($rc, 0, 'JumioAllowedOrigin: origins accepted') or diag($out);
}

{
    spew("$DIR/secret", "$SECRET\n");
    my ($rc, $out) = configtest("JumioJWTAlgorithm RS256\nJumioJWTKey file:$DIR/secret");
    isnt($rc, 0, 'a secret that is not a PEM key is refused');
    unlike($out, qr/\Q$SECRET\E/, 'the secret is not echoed');
}

{
    my ($rc, $out) = configtest("DBDriver sqlite3\nDBDParams $DIR/db\n<Location /x>\n"
                                . "JumioCallbackURLAllow https://user:$SECRET\@a.example/cb\n</Location>");
    isnt($rc, 0, 'a prefix with userinfo is refused');
    unlike($out, qr/\Q$SECRET\E/, 'its password is not echoed');
}

{
    # The shipped example, with its secret files and paths pointed at this test's files.
    my $example = do { local (@ARGV, $/) = ("$T/../conf/jumio.conf"); <> };
    spew("$DIR/$_", "test-$_-value-0123456789\n") for qw(client_secret userref_key);
    system("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $DIR/k.pem 2>/dev/null"
           . " && openssl pkey -in $DIR/k.pem -pubout -out $DIR/idp-public.pem") == 0 or die 'openssl';
    spew("$DIR/portal.htpasswd", "alice:x\n");
    # the callback address list it includes (t/callback_ips.t checks the lists)
    for my $dc (qw(us eu sg)) {
        spew("$DIR/jumio-callback-$dc.conf",
             do { local (@ARGV, $/) = ("$T/../conf/jumio-callback-$dc.conf"); <> });
    }
    $example =~ s{/etc/apache2/jumio/}{$DIR/}g;
    $example =~ s{/var/lib/apache2/jumio/}{$DIR/}g;
    local $ENV{JUMIO_CLIENT_ID} = 'example-client';
    my $load = do { local (@ARGV, $/) = ("$T/../conf/jumio.load"); <> };
    like($load, qr{^LoadModule jumio_module /usr/lib/apache2/modules/mod_jumio\.so$}m,
         'conf/jumio.load loads the installed module');
    my ($rc, $out) = configtest($example);
    is($rc, 0, 'conf/jumio.conf passes apache2 -t') or diag($out);
}
