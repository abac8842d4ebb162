# t/graceful.t - runs t/graceful.pl (1,000+ callbacks and polls during two graceful
# restarts) when JUMIO_LOAD=1; skipped otherwise.  scripts/test sets JUMIO_LOAD=1.
use strict;
use warnings;

my $script = 't/graceful.pl';
my $ok = do "./$script";
die "$script: $@" if $@;
die "$script: $!" unless defined $ok;
