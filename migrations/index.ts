import { InitialSchema1764500000000 } from './1764500000000-InitialSchema';
import { AnalysisOptions1765100000000 } from './1765100000000-AnalysisOptions';
import { DesignsAndPower1765200000000 } from './1765200000000-DesignsAndPower';
import { KpiCollectionAtScale1765300000000 } from './1765300000000-KpiCollectionAtScale';
import { OpportunityBatchProvenanceWithoutForeignKey1765300000001 } from './1765300000001-OpportunityBatchProvenanceWithoutForeignKey';
import { Governance1765400000000 } from './1765400000000-Governance';
import { PilotMonthlyCost1765500000000 } from './1765500000000-PilotMonthlyCost';
import { OpportunityTerritoryCheckPerStatement1765600000000 } from './1765600000000-OpportunityTerritoryCheckPerStatement';
import { OpportunityHistoryWithoutCurrentVersion1765600000001 } from './1765600000001-OpportunityHistoryWithoutCurrentVersion';
import { AssignmentDraws1765700000000 } from './1765700000000-AssignmentDraws';
import { ReportHtml1765800000000 } from './1765800000000-ReportHtml';
import { ImportSources1765900000000 } from './1765900000000-ImportSources';
import { OpportunityBatchWarnings1766000000000 } from './1766000000000-OpportunityBatchWarnings';
import { OpportunityFieldHistory1766100000000 } from './1766100000000-OpportunityFieldHistory';
import { ChosenDesign1766600000000 } from './1766600000000-ChosenDesign';
import { Currency1766700000000 } from './1766700000000-Currency';
import { SelectedDesign1766800000000 } from './1766800000000-SelectedDesign';
import { FieldHistoryAsOf1766820000000 } from './1766820000000-FieldHistoryAsOf';

/** Every migration, in order. Listed as classes (not a glob) so ts-node, jest and dist/ all load them. */
export const MIGRATIONS = [InitialSchema1764500000000, AnalysisOptions1765100000000, DesignsAndPower1765200000000, KpiCollectionAtScale1765300000000, OpportunityBatchProvenanceWithoutForeignKey1765300000001, Governance1765400000000, PilotMonthlyCost1765500000000, OpportunityTerritoryCheckPerStatement1765600000000, OpportunityHistoryWithoutCurrentVersion1765600000001, AssignmentDraws1765700000000, ReportHtml1765800000000, ImportSources1765900000000, OpportunityBatchWarnings1766000000000, OpportunityFieldHistory1766100000000, ChosenDesign1766600000000, Currency1766700000000, SelectedDesign1766800000000, FieldHistoryAsOf1766820000000];
