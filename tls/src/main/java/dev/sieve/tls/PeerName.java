package dev.sieve.tls;

import java.security.cert.X509Certificate;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/** The name a certificate speaks for: its subject's common name (what `sieve certs generate` sets to the node's name). */
public final class PeerName {
    private PeerName() {}

    /** The subject CN, or null if it has none. */
    public static String of(X509Certificate c) {
        try {
            String cn = null;
            for (Rdn rdn : new LdapName(c.getSubjectX500Principal().getName()).getRdns())
                if (rdn.getType().equalsIgnoreCase("CN")) cn = String.valueOf(rdn.getValue());
            return cn;
        } catch (InvalidNameException e) {
            return null;
        }
    }
}
