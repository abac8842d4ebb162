#!/usr/bin/perl
# t/cgi/authz_env.cgi - the page behind `Require jumio-verified` in t/authz.t: answers the
# JUMIO_* variables, the Jumio-* request headers (HTTP_JUMIO_*) it got, REMOTE_USER and the
# REDIRECT_* variables of an ErrorDocument as a JSON object.
use strict;
use warnings;
use JSON::PP ();

my %seen = map { $_ => $ENV{$_} } grep { /JUMIO/i || /\A(?:REDIRECT_)?REMOTE_USER\z/ } keys %ENV;
print "Content-Type: application/json\n\n", JSON::PP->new->canonical->encode(\%seen);
