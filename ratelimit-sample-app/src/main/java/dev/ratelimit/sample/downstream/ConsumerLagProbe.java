package dev.ratelimit.sample.downstream;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.stereotype.Component;

/**
 * Reads a consumer group's lag on a topic with the admin client: the sum over its partitions of
 * the end offset minus the group's committed offset (the whole partition when the group has not
 * committed yet).
 */
@Component
public class ConsumerLagProbe implements DisposableBean {

	private static final Duration TIMEOUT = Duration.ofSeconds(5);

	private final Admin admin;

	public ConsumerLagProbe(KafkaAdmin kafkaAdmin) {
		this.admin = Admin.create(kafkaAdmin.getConfigurationProperties());
	}

	/**
	 * Returns a group's lag on a topic.
	 * @param group the consumer group
	 * @param topic the topic
	 * @return records not yet read, or -1 when the broker did not answer in time
	 */
	public long lag(String group, String topic) {
		try {
			Map<TopicPartition, OffsetAndMetadata> committed = this.admin.listConsumerGroupOffsets(group)
				.partitionsToOffsetAndMetadata()
				.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
			Map<TopicPartition, OffsetSpec> partitions = this.admin.describeTopics(List.of(topic))
				.allTopicNames()
				.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
				.get(topic)
				.partitions()
				.stream()
				.map((info) -> new TopicPartition(topic, info.partition()))
				.collect(Collectors.toMap((partition) -> partition, (partition) -> OffsetSpec.latest()));
			Map<TopicPartition, ListOffsetsResultInfo> ends = this.admin.listOffsets(partitions)
				.all()
				.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
			long lag = 0;
			for (Map.Entry<TopicPartition, ListOffsetsResultInfo> end : ends.entrySet()) {
				OffsetAndMetadata offset = committed.get(end.getKey());
				lag += Math.max(0, end.getValue().offset() - ((offset != null) ? offset.offset() : 0));
			}
			return lag;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return -1;
		}
		catch (ExecutionException | TimeoutException | KafkaException ex) {
			// the topic is not created yet, or the broker is away: no reading this time
			return -1;
		}
	}

	@Override
	public void destroy() {
		this.admin.close(Duration.ofSeconds(2));
	}

}
