package dev.sieve.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.Flow;
import org.junit.jupiter.api.Test;

/** JSON as Hubble prints it: labels keep their '=' instead of protobuf-java's HTML-safe escapes. */
class HubbleJsonTest {

    @Test
    void labelsPrintTheirEqualsSignAsHubbleDoes() throws Exception {
        Flow f = Flow.newBuilder().setSource(Endpoint.newBuilder().addLabels("k8s:app=frontend").addLabels("a<b>&'c")).build();
        String json = HubbleJson.print(f);
        assertThat(json).contains("\"k8s:app=frontend\"").contains("\"a<b>&'c\"").doesNotContain("\\u00");
        assertThat(HubbleJson.merge(json, Flow.newBuilder()).build()).isEqualTo(f);
    }

    @Test
    void anEscapedBackslashBeforeTheTextU003dStaysAsItIs() throws Exception {
        String text = "back\\" + "u003d slash";
        Flow f = Flow.newBuilder().setNodeName(text).build();
        String json = HubbleJson.print(f);
        assertThat(HubbleJson.merge(json, Flow.newBuilder()).build().getNodeName()).isEqualTo(text);
    }
}
