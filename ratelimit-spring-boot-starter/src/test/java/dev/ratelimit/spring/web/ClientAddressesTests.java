package dev.ratelimit.spring.web;

import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class ClientAddressesTests {

	private final ClientAddresses proxies = ClientAddresses.trusting(List.of("10.0.0.0/8", "192.168.1.1", "fd00::/8"));

	@Test
	void withoutTrustedProxiesThePeerIsTheClientWhateverItForwards() {
		assertThat(ClientAddresses.none().client("10.0.0.1", List.of("1.2.3.4"))).isEqualTo("10.0.0.1");
	}

	@Test
	void theNearestHopThatIsNotTrustedIsTheClient() {
		assertThat(this.proxies.client("10.0.0.1", List.of("1.1.1.1, 2.2.2.2, 10.3.3.3")))
			.isEqualTo("2.2.2.2");
		// several fields are one list, in order
		assertThat(this.proxies.client("192.168.1.1", List.of("1.1.1.1", "10.4.4.4"))).isEqualTo("1.1.1.1");
	}

	@Test
	void anUntrustedPeersHeadersAreIgnored() {
		assertThat(this.proxies.client("192.168.1.2", List.of("1.1.1.1"))).isEqualTo("192.168.1.2");
	}

	@Test
	void whenEveryHopIsTrustedTheFarthestIsTheClient() {
		assertThat(this.proxies.client("10.0.0.1", List.of("10.2.2.2, 10.1.1.1"))).isEqualTo("10.2.2.2");
		assertThat(this.proxies.client("10.0.0.1", List.of())).isEqualTo("10.0.0.1");
	}

	@Test
	void forwardedIsReadWhenConfiguredWithQuotesPortsAndBrackets() {
		ClientAddresses forwarded = ClientAddresses.trusting(List.of("10.0.0.0/8"), ClientAddresses.Header.FORWARDED);
		assertThat(forwarded.header().fieldName()).isEqualTo("Forwarded");
		assertThat(forwarded.client("10.0.0.1", List.of("for=\"[2001:DB8::1]:443\";proto=https")))
			.isEqualTo("2001:db8:0:0:0:0:0:1");
		assertThat(forwarded.client("10.0.0.1", List.of("for=1.1.1.1, for=10.9.9.9;by=10.0.0.1"))).isEqualTo("1.1.1.1");
		assertThat(this.proxies.header().fieldName()).isEqualTo("X-Forwarded-For");
		assertThat(this.proxies.client("10.0.0.1", List.of("5.6.7.8:1234"))).isEqualTo("5.6.7.8");
	}

	@Test
	void textTheJdkWouldLookUpIsNeverAnAddress() {
		for (String name : List.of(".::1", "[.::1]", ".1::", "g::1", "example.com", "localhost", "::1%eth0")) {
			assertThat(ClientAddresses.parse(name)).as(name).isNull();
			assertThat(this.proxies.client("10.0.0.1", List.of("7.7.7.7, " + name))).as(name).isEqualTo("10.0.0.1");
		}
	}

	@Test
	void thePeersZoneIsLeftOut() {
		assertThat(this.proxies.client("fd00::1%0", List.of("1.2.3.4"))).isEqualTo("1.2.3.4");
		assertThat(ClientAddresses.none().client("fe80::1%eth0", List.of())).isEqualTo("fe80::1");
	}

	@Test
	void aHopThatIsNotAnAddressStopsAtTheProxyThatWroteIt() {
		for (String junk : List.of("unknown", "_hidden", "example.com", "1.2.3.4.5", "999.1.1.1", "::1%eth0", "",
				"1.2.3.4:http", "[::1", "x".repeat(1000))) {
			assertThat(this.proxies.client("10.0.0.1", List.of("7.7.7.7, " + junk + ", 10.5.5.5")))
				.as(junk)
				.isEqualTo("10.5.5.5");
		}
	}

	@Test
	void onlyTheNearestHopsAreRead() {
		List<String> many = Collections.nCopies(ClientAddresses.MAX_HOPS + 5, "10.1.1.1");
		String chain = "3.3.3.3, " + String.join(", ", many);
		// every hop read is trusted: the farthest read stands for the client
		assertThat(this.proxies.client("10.0.0.1", List.of(chain))).isEqualTo("10.1.1.1");
	}

	@Test
	void mappedAddressesAreIpv4AndIpv6IsCanonical() {
		assertThat(this.proxies.client("::ffff:10.0.0.1", List.of("::ffff:1.2.3.4"))).isEqualTo("1.2.3.4");
		assertThat(ClientAddresses.none().client("0:0:0:0:0:0:0:1", List.of())).isEqualTo("0:0:0:0:0:0:0:1");
		assertThat(this.proxies.client("fd00::1", List.of("2001:db8::7"))).isEqualTo("2001:db8:0:0:0:0:0:7");
	}

	@Test
	void rangesMatchOnTheirPrefixOnly() {
		ClientAddresses narrow = ClientAddresses.trusting(List.of("10.1.2.128/25", "2001:db8::/33"));
		assertThat(narrow.client("10.1.2.200", List.of("1.1.1.1"))).isEqualTo("1.1.1.1");
		assertThat(narrow.client("10.1.2.100", List.of("1.1.1.1"))).isEqualTo("10.1.2.100");
		assertThat(narrow.client("2001:db8:7fff::1", List.of("1.1.1.1"))).isEqualTo("1.1.1.1");
		assertThat(narrow.client("2001:db8:8000::1", List.of("1.1.1.1"))).isEqualTo("2001:db8:8000:0:0:0:0:1");
		assertThat(ClientAddresses.trusting(List.of("0.0.0.0/0")).client("8.8.8.8", List.of("1.1.1.1")))
			.isEqualTo("1.1.1.1");
	}

	@Test
	void aPeerThatIsNotAnAddressIsKeptAsGiven() {
		assertThat(this.proxies.client("unix-socket", List.of("1.1.1.1"))).isEqualTo("unix-socket");
	}

	@Test
	void entriesThatAreNotAddressesOrRangesAreRefused() {
		for (String bad : List.of("localhost", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/x", "::1/129", "10.0.0.1:80",
				"[::1]", "", "10.0.0")) {
			assertThatIllegalArgumentException().as(bad)
				.isThrownBy(() -> ClientAddresses.trusting(List.of(bad)))
				.withMessageContaining("'" + bad + "'");
		}
	}

}
