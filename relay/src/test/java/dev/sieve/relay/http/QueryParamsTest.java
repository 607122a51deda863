package dev.sieve.relay.http;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sieve.relay.query.InvalidQueryException;
import jakarta.ws.rs.core.MultivaluedHashMap;
import org.junit.jupiter.api.Test;

/** Times and durations out of range are a 400 naming the parameter, not a 500 (found while writing the REST fuzz test). */
class QueryParamsTest {
    @Test
    void hugeDurationsAndTimesAreRefusedWithTheParametersName() {
        for (String v : new String[] {"99999999999999999999s", "9223372036854775807d", "9223372036854775807s"}) {
            MultivaluedHashMap<String, String> p = new MultivaluedHashMap<>();
            p.add("since", v);
            assertThatThrownBy(() -> QueryParams.parse(p)).isInstanceOf(InvalidQueryException.class).hasMessageContaining("since");
        }
        assertThatThrownBy(() -> QueryParams.duration("99999999999999999999m", "bucket"))
                .isInstanceOf(InvalidQueryException.class).hasMessageContaining("bucket");
    }
}
