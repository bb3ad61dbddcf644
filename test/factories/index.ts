export * from './territory.factory';
export * from './opportunity.factory';
export * from './pilot.factory';
export * from './ingestion-stack';
