# t/callback_ips.t - the callback address include files conf/jumio-callback-{us,eu,sg}.conf:
# Jumio's currently published addresses (and none of the retired US ones anywhere we ship),
# each file parses as an Include inside <RequireAny> (an extra httpd starts with all three),
# and a callback from an address that is not listed (the test can only send from 127.0.0.1) is
# refused with 403 and changes nothing, while the same list plus 127.0.0.1 lets it through.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use lib 't/lib';
use JumioTest;
use JumioTest::Kit;

use Cwd ();
use File::Find ();

my $T = Cwd::abs_path(Apache::Test::vars('t_dir'));
my $ROOT = Cwd::abs_path("$T/..");

# Jumio's published callback addresses per data centre (checked 2026-12-01).
my %CURRENT = (
    us => [qw(34.202.241.227 34.226.103.119 34.226.254.127 52.8.136.236 54.177.61.57 54.183.15.212)],
    eu => [qw(34.253.41.236 35.157.27.193 52.48.0.25 52.57.194.92 52.58.113.86 52.209.180.134)],
    sg => [qw(3.0.109.121 52.76.184.73 52.77.102.92 13.238.100.17 13.238.203.238 52.64.132.26)],
);
# US addresses Jumio no longer uses: a callback from them is not Jumio's.
my @RETIRED = qw(52.52.51.178 52.53.95.123 54.67.101.173);

plan tests => 3 * 4 + 1 + 1 + 3 * 2 + 3;

# Text of a file.
sub slurp { my ($p) = @_; open my $fh, '<', $p or die "$p: $!"; local $/; return scalar <$fh> }

for my $dc (sort keys %CURRENT) {
    my $file = "$ROOT/conf/jumio-callback-$dc.conf";
    my $text = -f $file ? slurp($file) : '';
    my @lines = grep { /\S/ && !/\A\s*#/ } split /\n/, $text;
    ok(@lines && !grep({ !/\A\s*Require ip(?:\s+[0-9.]+)+\s*\z/ } @lines),
       "$dc: only 'Require ip <address>...' lines") or diag($text);
    my @ips = map { my @w = split ' '; @w[2 .. $#w] } @lines;
    is_deeply([sort @ips], [sort @{ $CURRENT{$dc} }], "$dc: exactly Jumio's published addresses");
    like($text, qr/published callback IP allow-list page/, "$dc: says where the list comes from");
    like($text, qr/checked 2026-12-01/, "$dc: says when it was checked");
}

# Every file we ship (configuration, package, docs, scripts): no retired address.
{
    my @hits;
    File::Find::find({ no_chdir => 1, wanted => sub {
        return unless -f $_;
        my $text = slurp($_);
        push @hits, map { "$File::Find::name: $_" } grep { index($text, $_) >= 0 } @RETIRED;
    } }, grep { -e } map { "$ROOT/$_" } qw(conf debian docs demo scripts kit README.md));
    is_deeply(\@hits, [], 'no retired US callback address in any shipped file');
}

# The shipped example includes the US list inside the callback's <RequireAny>.
like(slurp("$ROOT/conf/jumio.conf"),
     qr{<Location\s+/jumio/callback>\s*SetHandler\s+jumio-callback\s*<RequireAny>\s*
        Include\s+/etc/apache2/jumio/jumio-callback-us\.conf\s*</RequireAny>}x,
     'conf/jumio.conf: the callback <Location> includes jumio-callback-us.conf');

# An httpd with a callback location per list, and one with the US list plus 127.0.0.1; it
# starting at all shows the three files parse as includes.
my $conf = join "\n", map {
    my $dc = $_;
    ("<Location /jumio/callback-$dc>", '    SetHandler jumio-callback', '    <RequireAny>',
     "        Include $ROOT/conf/jumio-callback-$dc.conf", '    </RequireAny>', '</Location>')
} sort keys %CURRENT;
$conf .= "\n" . join "\n", '<Location /jumio/callback-us-local>', '    SetHandler jumio-callback',
    '    <RequireAny>', "        Include $ROOT/conf/jumio-callback-us.conf",
    '        Require ip 127.0.0.1', '    </RequireAny>', '</Location>';
my @DB = db_is_mysql() ? (db => 'main') : ();
my $h = JumioTest::extra_httpd(name => 'callback_ips', workers => 4, start_servers => 1,
                               conf => $conf, @DB);
$h->start;

my $t = start_tx(base => $h->base, tag => 'cbip', quiet => 1);
my $body = { workflowExecution => { id => $t->{ref}, status => 'PROCESSED', definitionKey => '3' },
             account => { id => $t->{account} }, callbackSentAt => '2026-12-01T10:00:00.000Z' };
for my $dc (sort keys %CURRENT) {
    my $res = JumioTest::callback($body, path => "/jumio/callback-$dc", base => $h->base,
                                  query => "jumio_token=$t->{token}");
    is($res->code, 403, "$dc list: a genuine callback from 127.0.0.1 is refused (403)");
    is(tx_row($t, $h)->{status}, 'INITIATED', "$dc list: the transaction is unchanged");
}
my $res = JumioTest::callback($body, path => '/jumio/callback-us-local', base => $h->base,
                              query => "jumio_token=$t->{token}");
is($res->code, 200, 'US list plus 127.0.0.1: the same callback is accepted')
    or diag(substr($res->as_string, 0, 600));
is(tx_row($t, $h)->{status}, 'PROCESSED', 'the transaction moved to PROCESSED');
is(scalar(grep { /AH01797|client denied by server configuration/ } split /\n/, $h->error_log_text),
   3, 'httpd logged the three refusals as denied by configuration');
$h->stop;
